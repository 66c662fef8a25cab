package nexmark

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// java.util.Random's published sequences: new Random(42).nextInt() and
// nextDouble(), new Random(0).nextInt().
func TestJavaRandomMatchesJava(t *testing.T) {
	if got := newJavaRandom(42).nextInt(); got != -1170105035 {
		t.Errorf("new Random(42).nextInt() = %d, want -1170105035", got)
	}
	if got := newJavaRandom(0).nextInt(); got != -1155484576 {
		t.Errorf("new Random(0).nextInt() = %d, want -1155484576", got)
	}
	if got := newJavaRandom(42).float64(); got != 0.7275636800328681 {
		t.Errorf("new Random(42).nextDouble() = %v, want 0.7275636800328681", got)
	}
	if got := newJavaRandom(42).intn(10); got != 0 {
		t.Errorf("new Random(42).nextInt(10) = %d, want 0", got)
	}
	r := newJavaRandom(7)
	for range 10000 {
		if v := r.intn(6); v < 0 || v >= 6 {
			t.Fatalf("intn(6) = %d", v)
		}
		if v := r.intn(16); v < 0 || v >= 16 {
			t.Fatalf("intn(16) = %d", v)
		}
	}
}

// generate returns n events of the default configuration changed by mod.
func generate(t *testing.T, mod func(*Config), n int) []Event {
	t.Helper()
	cfg := DefaultConfig()
	if mod != nil {
		mod(&cfg)
	}
	g, err := NewGenerator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]Event, n)
	for i := range out {
		out[i] = *g.Next()
	}
	return out
}

func TestKindsInProportion(t *testing.T) {
	evs := generate(t, nil, 50_000)
	var n [3]int
	for i, e := range evs {
		n[e.Kind]++
		// The kind is a function of the event id alone: 1 person, then 3
		// auctions, then 46 bids in every 50 ids.
		id := int64(i) + 2 // FirstEventID 1 + FirstEventNumber 1
		want := KindBid
		switch {
		case id%50 == 0:
			want = KindPerson
		case id%50 < 4:
			want = KindAuction
		}
		if e.Kind != want {
			t.Fatalf("event %d (id %d) is a %s, want a %s", i, id, e.Kind, want)
		}
	}
	if n != [3]int{1000, 3000, 46000} {
		t.Fatalf("person:auction:bid = %v in 50,000 events, want 1000:3000:46000", n)
	}
	if evs[0].Kind != KindAuction {
		t.Fatalf("first event is a %s: the Flink source starts at event id 2, an auction", evs[0].Kind)
	}
}

func TestIDsAreConsecutiveAndBidsReferToThem(t *testing.T) {
	evs := generate(t, nil, 200_000)
	// Event ids start at 2 (an auction): person 1000 is never generated
	// but counts as existing, auction 1000 neither.
	var lastPerson, lastAuction int64 = FirstPersonID, FirstAuctionID
	var hotAuction, hotBidder, hotSeller, bids, auctions int
	for _, e := range evs {
		switch e.Kind {
		case KindPerson:
			if e.Person.ID != lastPerson+1 {
				t.Fatalf("person id %d after %d", e.Person.ID, lastPerson)
			}
			lastPerson = e.Person.ID
		case KindAuction:
			a := e.Auction
			if a.ID != lastAuction+1 {
				t.Fatalf("auction id %d after %d", a.ID, lastAuction)
			}
			lastAuction = a.ID
			auctions++
			if a.Seller < FirstPersonID || a.Seller > lastPerson+personIDLead {
				t.Fatalf("auction %d: seller %d outside [%d, %d]", a.ID, a.Seller, FirstPersonID, lastPerson+personIDLead)
			}
			if a.Seller == ((lastPerson-FirstPersonID)/100)*100+FirstPersonID {
				hotSeller++
			}
			if a.Category < FirstCategoryID || a.Category >= FirstCategoryID+NumCategories {
				t.Fatalf("auction %d: category %d", a.ID, a.Category)
			}
			if a.Expires <= a.DateTime || a.Reserve < a.InitialBid {
				t.Fatalf("auction %d: expires %d at %d, reserve %d below initial bid %d", a.ID, a.Expires, a.DateTime, a.Reserve, a.InitialBid)
			}
		case KindBid:
			b := e.Bid
			bids++
			if b.Auction < FirstAuctionID || b.Auction > lastAuction+auctionIDLead {
				t.Fatalf("bid on auction %d, last auction %d", b.Auction, lastAuction)
			}
			if b.Auction == ((lastAuction-FirstAuctionID)/100)*100+FirstAuctionID {
				hotAuction++
			}
			// Bidders carry FIRST_PERSON_ID twice.
			person := b.Bidder - FirstPersonID
			if person < FirstPersonID || person > lastPerson+personIDLead {
				t.Fatalf("bidder %d: person %d outside [%d, %d]", b.Bidder, person, FirstPersonID, lastPerson+personIDLead)
			}
			if person == ((lastPerson-FirstPersonID)/100)*100+FirstPersonID+1 {
				hotBidder++
			}
			if b.Price < 100 || b.Price > 100_000_000 {
				t.Fatalf("bid price %d outside [100, 10^8]", b.Price)
			}
		}
	}
	// Hot ids are chosen with probability (ratio-1)/ratio; a uniform pick
	// lands on the hot id now and then too.
	within := func(name string, got, n int, lo, hi float64) {
		if f := float64(got) / float64(n); f < lo || f > hi {
			t.Errorf("%s: %.3f of %d, want in [%.2f, %.2f]", name, f, n, lo, hi)
		}
	}
	within("hot auctions (ratio 2)", hotAuction, bids, 0.49, 0.52)
	within("hot bidders (ratio 4)", hotBidder, bids, 0.74, 0.77)
	within("hot sellers (ratio 4)", hotSeller, auctions, 0.73, 0.78)
}

func TestPricesAreLogUniform(t *testing.T) {
	evs := generate(t, nil, 100_000)
	var below1e5, n int
	var logSum float64
	for _, e := range evs {
		if e.Kind != KindBid {
			continue
		}
		n++
		if e.Bid.Price < 100_000 {
			below1e5++
		}
		logSum += math.Log10(float64(e.Bid.Price))
	}
	// log10(price) is uniform on [2, 8]: median 10^5, mean 5.
	if f := float64(below1e5) / float64(n); f < 0.49 || f > 0.51 {
		t.Errorf("%.3f of prices below 100,000, want 0.5", f)
	}
	if m := logSum / float64(n); m < 4.97 || m > 5.03 {
		t.Errorf("mean log10(price) %.3f, want 5", m)
	}
}

func TestEventTimeIsSynthetic(t *testing.T) {
	evs := generate(t, func(c *Config) { c.BaseTime = 1_000_000 }, 1000)
	for i, e := range evs {
		number := int64(i) + 1
		if e.Number != number {
			t.Fatalf("event %d has number %d", i, e.Number)
		}
		// 10,000 events/s: 100 us apart, so event n is at n/10 ms.
		if want := 1_000_000 + number/10; e.Time() != want {
			t.Fatalf("event %d at %d, want %d", number, e.Time(), want)
		}
	}
	// The published rate: 10M events per second of event time.
	evs = generate(t, func(c *Config) { c.BaseTime, c.EventRate = 5, 10_000_000 }, 100_000)
	if last := evs[len(evs)-1].Time(); last != 5+10 {
		t.Fatalf("event 100,000 at 10M/s is at %d ms, want 15", last)
	}
}

func TestDeterministicBySeed(t *testing.T) {
	encode := func(seed int64) []byte {
		cfg := DefaultConfig()
		cfg.Seed = seed
		g, err := NewGenerator(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var b []byte
		for range 20_000 {
			e := g.Next()
			b, _ = AppendKey(b, e)
			b = AppendValue(b, e)
		}
		return b
	}
	a, b, c := encode(3), encode(3), encode(4)
	if !bytes.Equal(a, b) {
		t.Fatal("the same seed gave different events")
	}
	if bytes.Equal(a, c) {
		t.Fatal("different seeds gave the same events")
	}
}

func TestSizesChannelsAndStrings(t *testing.T) {
	evs := generate(t, nil, 200_000)
	var size [3]int
	var count [3]int
	var hot, withID, other int
	for _, e := range evs {
		count[e.Kind]++
		switch e.Kind {
		case KindPerson:
			p := e.Person
			size[0] += 8 + len(p.Name) + len(p.Email) + len(p.CreditCard) + len(p.City) + len(p.State) + len(p.Extra)
			if !strings.HasSuffix(p.Email, ".com") || !strings.Contains(p.Email, "@") {
				t.Fatalf("email %q", p.Email)
			}
			if len(p.CreditCard) != 19 || strings.Count(p.CreditCard, " ") != 3 {
				t.Fatalf("credit card %q", p.CreditCard)
			}
			if !contains(usStates, p.State) || !contains(usCities, p.City) {
				t.Fatalf("state %q city %q", p.State, p.City)
			}
		case KindAuction:
			a := e.Auction
			size[1] += 8 + len(a.ItemName) + len(a.Description) + 40 + len(a.Extra)
		case KindBid:
			b := e.Bid
			size[2] += 32 + len(b.Extra)
			if !strings.HasPrefix(b.URL, "https://www.nexmark.com/") || !strings.Contains(b.URL, "/item.htm?query=1") {
				t.Fatalf("url %q", b.URL)
			}
			if contains(HotChannels, b.Channel) {
				hot++
				continue
			}
			other++
			if !strings.HasPrefix(b.Channel, "channel-") {
				t.Fatalf("channel %q", b.Channel)
			}
			if strings.Contains(b.URL, "&channel_id=") {
				withID++
			}
		}
	}
	// Nexmark's size estimate (8 bytes a number) averages the configured
	// sizes: 200, 500, 100.
	for k, want := range []int{200, 500, 100} {
		if avg := float64(size[k]) / float64(count[k]); math.Abs(avg-float64(want)) > float64(want)/50 {
			t.Errorf("%s: average size %.1f, want %d", Kind(k), avg, want)
		}
	}
	if f := float64(hot) / float64(hot+other); f < 0.49 || f > 0.51 {
		t.Errorf("%.3f of bids through hot channels, want 0.5", f)
	}
	// 9 in 10 channels carry their id; count distinct channels' URLs is
	// what the suite fixes, per bid it is close to that.
	if f := float64(withID) / float64(other); f < 0.85 || f > 0.95 {
		t.Errorf("%.3f of other-channel bids have a channel_id, want about 0.9", f)
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// The JSON values decode to the generated fields, and the keys of people
// and auctions are their ids as 8-byte big-endian BIGINTs.
func TestEncoding(t *testing.T) {
	g, err := NewGenerator(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	seen := [3]bool{}
	for range 5000 {
		e := g.Next()
		v := AppendValue(nil, e)
		k, hasKey := AppendKey(nil, e)
		var m map[string]any
		d := json.NewDecoder(bytes.NewReader(v))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			t.Fatalf("%s value %s: %v", e.Kind, v, err)
		}
		num := func(name string) int64 {
			n, err := m[name].(json.Number).Int64()
			if err != nil {
				t.Fatalf("%s %s: %v in %s", e.Kind, name, err, v)
			}
			return n
		}
		seen[e.Kind] = true
		switch e.Kind {
		case KindPerson:
			if !hasKey || int64(binary.BigEndian.Uint64(k)) != e.Person.ID || num("ID") != e.Person.ID ||
				m["NAME"] != e.Person.Name || m["EXTRA"] != e.Person.Extra || num("DATETIME") != e.Person.DateTime {
				t.Fatalf("person %+v encoded as key %x value %s", e.Person, k, v)
			}
		case KindAuction:
			if !hasKey || int64(binary.BigEndian.Uint64(k)) != e.Auction.ID || num("SELLER") != e.Auction.Seller ||
				num("CATEGORY") != e.Auction.Category || num("EXPIRES") != e.Auction.Expires || m["EXTRA"] != e.Auction.Extra {
				t.Fatalf("auction %+v encoded as key %x value %s", e.Auction, k, v)
			}
		case KindBid:
			if hasKey || num("AUCTION") != e.Bid.Auction || num("BIDDER") != e.Bid.Bidder || num("PRICE") != e.Bid.Price ||
				m["CHANNEL"] != e.Bid.Channel || m["URL"] != e.Bid.URL || m["EXTRA"] != e.Bid.Extra {
				t.Fatalf("bid %+v encoded as key %x value %s", e.Bid, k, v)
			}
		}
		if Topic(e.Kind) == "" {
			t.Fatal("no topic")
		}
	}
	if seen != [3]bool{true, true, true} {
		t.Fatalf("kinds seen %v", seen)
	}
}

func TestBadConfig(t *testing.T) {
	if _, err := NewGenerator(Config{EventRate: -1}); err == nil || !strings.Contains(err.Error(), "event rate") {
		t.Fatalf("negative rate: %v", err)
	}
}
