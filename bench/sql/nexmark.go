// Package sql benchmarks Sluice's stateless SQL path: records through
// exec.Query.Process, decoding and encoding included. See sql_test.go and
// docs/benchmarks.md.
package sql

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
)

// Nexmark bid generation, after the Nexmark generator's rules
// (/work/shared/reference/nexmark.md): event kind from the event number
// (person:auction:bid = 1:3:46), ids from the epoch, hot auctions and
// bidders, log-uniform prices, hot channels with fixed URLs, and an extra
// field padding a bid to 100 bytes +-20 % on average. Only bids are
// produced: q0-q2 read the bid stream.

const (
	firstPersonID  = 1000
	firstAuctionID = 1000
	inFlight       = 100
	activePeople   = 1000
	avgBidBytes    = 100
	baseTime       = 1_700_000_000_000 // ms; event time is synthetic
	interEventUs   = 100               // 10,000 events/s
)

var hotChannels = []string{"Google", "Facebook", "Baidu", "Apple"}

// Bids generates Nexmark bids as ksqlDB JSON values (AUCTION, BIDDER,
// PRICE, CHANNEL, URL, DATETIME, EXTRA), in event-number order.
type Bids struct {
	rng   *rand.Rand
	event int64
	pad   []byte
}

// NewBids returns a deterministic generator.
func NewBids(seed uint64) *Bids {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	pad := make([]byte, 1<<16)
	for i := range pad {
		pad[i] = byte('a' + r.IntN(26))
	}
	return &Bids{rng: r, pad: pad}
}

func (g *Bids) lastAuction(ev int64) int64 {
	epoch, off := ev/50, ev%50
	if off < 1 {
		return max(epoch*3-1, 0)
	}
	return epoch*3 + min(off-1, 2)
}

// Next returns the next bid as JSON.
func (g *Bids) Next() []byte {
	// Skip to the next bid event number.
	for g.event%50 < 4 {
		g.event++
	}
	ev := g.event
	g.event++
	last := g.lastAuction(ev)
	var auction int64
	if g.rng.IntN(2) == 0 { // hot auction, ratio 2
		auction = (last / 100) * 100
	} else {
		auction = max(last-inFlight+1+g.rng.Int64N(inFlight+10), 0)
	}
	people := ev / 50
	var bidder int64
	if g.rng.IntN(4) != 0 { // hot bidder, ratio 4
		bidder = (people/100)*100 + 1
	} else {
		bidder = max(people-activePeople+1+g.rng.Int64N(activePeople+10), 0)
	}
	price := int64(math.Round(math.Pow(10, g.rng.Float64()*6) * 100))
	var channel, url string
	if g.rng.IntN(2) == 0 {
		i := g.rng.IntN(len(hotChannels))
		channel = hotChannels[i]
		url = "https://www.nexmark.com/" + hotChannels[i][:1] + "aaaa/bbbbb/ccccc/item.htm?query=1"
	} else {
		i := g.rng.IntN(10000)
		channel = "channel-" + strconv.Itoa(i)
		url = fmt.Sprintf("https://www.nexmark.com/%s/%s/%s/item.htm?query=1", g.word(5), g.word(5), g.word(5))
		if g.rng.IntN(10) != 0 {
			url += "&channel_id=" + strconv.Itoa(i)
		}
	}
	ts := baseTime + ev*interEventUs/1000
	b := make([]byte, 0, 256)
	b = append(b, `{"AUCTION":`...)
	b = strconv.AppendInt(b, auction+firstAuctionID, 10)
	b = append(b, `,"BIDDER":`...)
	// The Nexmark generator adds FIRST_PERSON_ID twice to bidders.
	b = strconv.AppendInt(b, bidder+2*firstPersonID, 10)
	b = append(b, `,"PRICE":`...)
	b = strconv.AppendInt(b, price, 10)
	b = append(b, `,"CHANNEL":"`...)
	b = append(b, channel...)
	b = append(b, `","URL":"`...)
	b = append(b, url...)
	b = append(b, `","DATETIME":`...)
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, `,"EXTRA":"`...)
	// Pad to the average bid size +-20 %, measured as Nexmark does: 8 bytes
	// per number and timestamp plus the string lengths.
	target := avgBidBytes*4/5 + g.rng.IntN(avgBidBytes*2/5+1)
	n := max(target-(8*4+len(channel)+len(url)), 0)
	off := g.rng.IntN(len(g.pad) - n)
	b = append(b, g.pad[off:off+n]...)
	b = append(b, `"}`...)
	return b
}

func (g *Bids) word(n int) string {
	off := g.rng.IntN(len(g.pad) - n)
	return string(g.pad[off : off+n])
}
