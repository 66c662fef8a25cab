package sql

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"strconv"
)

// Nexmark persons and auctions, after the Nexmark generator's rules
// (/work/shared/reference/nexmark.md), for the join queries: events in
// event-number order with person:auction = 1:3 (bids, 46 of every 50
// events, are left out: the join queries do not read them), person ids and
// auction ids from the epoch, hot sellers (3/4 of auctions go to the newest
// hundred's first person), categories 10-14, states AZ CA ID OR WA WY, and
// extra fields padding persons to 200 bytes and auctions to 500 on average.

const (
	avgPersonBytes  = 200
	avgAuctionBytes = 500
	firstCategoryID = 10
)

var (
	usStates   = []string{"AZ", "CA", "ID", "OR", "WA", "WY"}
	usCities   = []string{"Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent", "Cheyenne"}
	firstNames = []string{"Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"}
	lastNames  = []string{"Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"}
)

// PeopleAuctions generates Nexmark persons (TOPIC person, BIGINT key) and
// auctions (TOPIC auction, keyless) as ksqlDB JSON values.
type PeopleAuctions struct {
	rng   *rand.Rand
	event int64
	pad   []byte
}

// NewPeopleAuctions returns a deterministic generator.
func NewPeopleAuctions(seed uint64) *PeopleAuctions {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	pad := make([]byte, 1<<16)
	for i := range pad {
		pad[i] = byte('a' + r.IntN(26))
	}
	return &PeopleAuctions{rng: r, pad: pad}
}

// Next returns the next person or auction: its topic, key (nil for
// auctions), JSON value and event time.
func (g *PeopleAuctions) Next() (topic string, key []byte, value []byte, ts int64) {
	for g.event%50 >= 4 { // skip bids
		g.event++
	}
	ev := g.event
	g.event++
	ts = baseTime + ev*interEventUs/1000
	epoch, off := ev/50, ev%50
	if off == 0 {
		return "person", bigintKey(epoch + firstPersonID), g.person(epoch+firstPersonID, ts), ts
	}
	return "auction", nil, g.auction(epoch*3+off-1, epoch, ts), ts
}

func (g *PeopleAuctions) person(id, ts int64) []byte {
	name := firstNames[g.rng.IntN(len(firstNames))] + " " + lastNames[g.rng.IntN(len(lastNames))]
	email := g.word(7) + "@" + g.word(5) + ".com"
	card := strconv.Itoa(1000+g.rng.IntN(9000)) + " " + strconv.Itoa(1000+g.rng.IntN(9000)) + " " +
		strconv.Itoa(1000+g.rng.IntN(9000)) + " " + strconv.Itoa(1000+g.rng.IntN(9000))
	city := usCities[g.rng.IntN(len(usCities))]
	state := usStates[g.rng.IntN(len(usStates))]
	b := make([]byte, 0, 320)
	b = append(b, `{"NAME":"`...)
	b = append(b, name...)
	b = append(b, `","EMAILADDRESS":"`...)
	b = append(b, email...)
	b = append(b, `","CREDITCARD":"`...)
	b = append(b, card...)
	b = append(b, `","CITY":"`...)
	b = append(b, city...)
	b = append(b, `","STATE":"`...)
	b = append(b, state...)
	b = append(b, `","DATETIME":`...)
	b = strconv.AppendInt(b, ts, 10)
	size := 8 + len(name) + len(email) + len(card) + len(city) + len(state) + 8
	return g.extra(b, avgPersonBytes, size)
}

func (g *PeopleAuctions) auction(base0, people, ts int64) []byte {
	var seller int64
	if g.rng.IntN(4) != 0 { // hot seller, ratio 4
		seller = (people / 100) * 100
	} else {
		seller = max(people-activePeople+1+g.rng.Int64N(activePeople+10), 0)
	}
	initial := int64(math.Round(math.Pow(10, g.rng.Float64()*6) * 100))
	item, desc := g.word(8), g.word(20)
	b := make([]byte, 0, 640)
	b = append(b, `{"ID":`...)
	b = strconv.AppendInt(b, base0+firstAuctionID, 10)
	b = append(b, `,"ITEMNAME":"`...)
	b = append(b, item...)
	b = append(b, `","DESCRIPTION":"`...)
	b = append(b, desc...)
	b = append(b, `","INITIALBID":`...)
	b = strconv.AppendInt(b, initial, 10)
	b = append(b, `,"RESERVE":`...)
	b = strconv.AppendInt(b, initial+int64(math.Round(math.Pow(10, g.rng.Float64()*6)*100)), 10)
	b = append(b, `,"DATETIME":`...)
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, `,"EXPIRES":`...)
	b = strconv.AppendInt(b, ts+1+g.rng.Int64N(2*inFlight*50/3*interEventUs/1000+1), 10)
	b = append(b, `,"SELLER":`...)
	b = strconv.AppendInt(b, seller+firstPersonID, 10)
	b = append(b, `,"CATEGORY":`...)
	b = strconv.AppendInt(b, int64(firstCategoryID+g.rng.IntN(5)), 10)
	size := 8 + len(item) + len(desc) + 8*5
	return g.extra(b, avgAuctionBytes, size)
}

// extra pads a value to the average size +-20 %, measured as Nexmark does.
func (g *PeopleAuctions) extra(b []byte, avg, size int) []byte {
	target := avg*4/5 + g.rng.IntN(avg*2/5+1)
	n := max(target-size, 0)
	off := g.rng.IntN(len(g.pad) - n)
	b = append(b, `,"EXTRA":"`...)
	b = append(b, g.pad[off:off+n]...)
	return append(b, `"}`...)
}

func (g *PeopleAuctions) word(n int) string {
	off := g.rng.IntN(len(g.pad) - n)
	return string(g.pad[off : off+n])
}

// bigintKey is a BIGINT key in the KAFKA format (8 bytes big-endian).
func bigintKey(v int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(v)) }
