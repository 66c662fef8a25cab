// Package nexmark is the Nexmark benchmark for Sluice's SQL engine: the
// standard event generator (people, auctions and bids of an online auction,
// as the nexmark/nexmark suite generates them for Flink), the queries
// written in ksqlDB's SQL, and the driver behind `sluice bench nexmark`.
//
// The generator follows the suite's rules so that selectivities match the
// published figures: event kinds from the event number (person, auction,
// bid in proportion 1:3:46), ids from the epoch of 50 events, hot auctions,
// sellers and bidders, log-uniform prices, channels and URLs, `extra`
// padding to the average sizes, synthetic event time, and the bidder ids
// that carry FIRST_PERSON_ID twice. Where the suite draws from an unseeded
// java.util.Random, this one draws from a seeded one: a run is reproducible.
package nexmark

import "fmt"

// Ids start here so that queries find matches even in small runs.
const (
	FirstPersonID   = 1000
	FirstAuctionID  = 1000
	FirstCategoryID = 10
	NumCategories   = 5
)

// The generator's fixed constants (not configurable in the suite either).
const (
	personIDLead    = 10  // people not yet created that bids and auctions may name
	auctionIDLead   = 10  // likewise for auctions
	hotAuctionGrain = 100 // hot auction: the first of the last 100 auctions
	hotPersonGrain  = 100 // hot seller and bidder: from the last 100 people
	hotChannelRatio = 2   // half the bids come through one of the 4 hot channels
	numChannels     = 10_000
	minStringLength = 3
)

// Config is the generator's part of NexmarkConfiguration. Start from
// DefaultConfig; zero rates, proportions, ratios and sizes also take the
// defaults, while Seed, FirstEventID and FirstEventNumber are used as given.
type Config struct {
	// Seed makes the run reproducible; the suite's generator is unseeded.
	Seed int64
	// BaseTime is the event time of event number 0, in ms since the epoch.
	BaseTime int64
	// EventRate is events per second of event time (firstEventRate,
	// default 10,000; the published Flink runs set 10,000,000 spread over 8
	// generators). Event time is synthetic: it says how densely events fall
	// into windows, not how fast they are generated.
	EventRate int64
	// Generators is numEventGenerators: the suite's parallel generators
	// each run their own timeline, so one generator's events are this many
	// times sparser in event time.
	Generators int64
	// FirstEventID and FirstEventNumber are where the suite's Flink source
	// starts (both 1): the first event is an auction, not a person.
	FirstEventID, FirstEventNumber int64

	PersonProportion, AuctionProportion, BidProportion int64

	HotAuctionRatio, HotSellersRatio, HotBiddersRatio int32
	NumInFlightAuctions, NumActivePeople              int64

	AvgPersonBytes, AvgAuctionBytes, AvgBidBytes int
}

// DefaultConfig is NexmarkConfiguration's defaults with the Flink source's
// first event id and number.
func DefaultConfig() Config {
	return Config{
		Seed: 1, BaseTime: 1_767_225_600_000, // 2026-01-01T00:00:00Z
		EventRate: 10_000, Generators: 1,
		FirstEventID: 1, FirstEventNumber: 1,
		PersonProportion: 1, AuctionProportion: 3, BidProportion: 46,
		HotAuctionRatio: 2, HotSellersRatio: 4, HotBiddersRatio: 4,
		NumInFlightAuctions: 100, NumActivePeople: 1000,
		AvgPersonBytes: 200, AvgAuctionBytes: 500, AvgBidBytes: 100,
	}
}

// withDefaults fills zero fields from DefaultConfig, but for the seed and
// the first event id and number, where zero is a value.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	set := func(v *int64, def int64) {
		if *v == 0 {
			*v = def
		}
	}
	set32 := func(v *int32, def int32) {
		if *v == 0 {
			*v = def
		}
	}
	setInt := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	set(&c.BaseTime, d.BaseTime)
	set(&c.EventRate, d.EventRate)
	set(&c.Generators, d.Generators)
	set(&c.PersonProportion, d.PersonProportion)
	set(&c.AuctionProportion, d.AuctionProportion)
	set(&c.BidProportion, d.BidProportion)
	set32(&c.HotAuctionRatio, d.HotAuctionRatio)
	set32(&c.HotSellersRatio, d.HotSellersRatio)
	set32(&c.HotBiddersRatio, d.HotBiddersRatio)
	set(&c.NumInFlightAuctions, d.NumInFlightAuctions)
	set(&c.NumActivePeople, d.NumActivePeople)
	setInt(&c.AvgPersonBytes, d.AvgPersonBytes)
	setInt(&c.AvgAuctionBytes, d.AvgAuctionBytes)
	setInt(&c.AvgBidBytes, d.AvgBidBytes)
	return c
}

func (c Config) validate() error {
	switch {
	case c.EventRate < 0 || c.Generators < 0:
		return fmt.Errorf("nexmark: event rate %d and generators %d must be positive", c.EventRate, c.Generators)
	case c.PersonProportion < 0 || c.AuctionProportion < 0 || c.BidProportion < 0:
		return fmt.Errorf("nexmark: proportions %d:%d:%d must not be negative", c.PersonProportion, c.AuctionProportion, c.BidProportion)
	case c.HotAuctionRatio < 0 || c.HotSellersRatio < 0 || c.HotBiddersRatio < 0:
		return fmt.Errorf("nexmark: hot ratios must be positive")
	case c.FirstEventID < 0 || c.FirstEventNumber < 0:
		return fmt.Errorf("nexmark: first event id %d and number %d must not be negative", c.FirstEventID, c.FirstEventNumber)
	}
	return nil
}

func (c Config) totalProportion() int64 {
	return c.PersonProportion + c.AuctionProportion + c.BidProportion
}

// interEventDelayUs is the event-time gap between events of one generator.
func (c Config) interEventDelayUs() float64 {
	return 1e6 / float64(c.EventRate) * float64(c.Generators)
}

// timestamp is the event time of an event number (GeneratorConfig's
// timestampForEvent: the product truncated to whole microseconds).
func (c Config) timestamp(eventNumber int64) int64 {
	return c.BaseTime + int64(float64(eventNumber)*c.interEventDelayUs())/1000
}

// lastPersonID is the newest base-0 person id at an event id: the person
// itself for a person event.
func (c Config) lastPersonID(eventID int64) int64 {
	epoch, offset := eventID/c.totalProportion(), eventID%c.totalProportion()
	if offset >= c.PersonProportion {
		offset = c.PersonProportion - 1
	}
	return epoch*c.PersonProportion + offset
}

// lastAuctionID is the newest base-0 auction id at an event id: the
// auction itself for an auction event. Before an epoch's first auction it is
// the previous epoch's last.
func (c Config) lastAuctionID(eventID int64) int64 {
	epoch, offset := eventID/c.totalProportion(), eventID%c.totalProportion()
	switch {
	case offset < c.PersonProportion:
		epoch--
		offset = c.AuctionProportion - 1
	case offset >= c.PersonProportion+c.AuctionProportion:
		offset = c.AuctionProportion - 1
	default:
		offset -= c.PersonProportion
	}
	return epoch*c.AuctionProportion + offset
}
