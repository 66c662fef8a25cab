package nexmark

import (
	"encoding/binary"
	"strconv"
)

// Events are written as ksqlDB users would lay them out: one topic per
// entity, JSON values with the column names ksqlDB gives unquoted
// identifiers (upper case), times as epoch milliseconds (ksqlDB's JSON
// TIMESTAMP), and the Kafka record timestamp set to the event time so that
// windows run on event time without a TIMESTAMP property. People and
// auctions are keyed by their id in ksqlDB's default KAFKA key format
// (BIGINT: 8 bytes big-endian), so PERSON can be declared as a TABLE;
// bids have no key. One topic per entity rather than the suite's single
// mixed stream: a ksqlDB stream has one value schema, and with one topic
// every query would decode and drop the events of the other kinds.

// Topics of the three entities.
const (
	PersonTopic  = "nexmark-person"
	AuctionTopic = "nexmark-auction"
	BidTopic     = "nexmark-bid"
)

// Topic is the topic of an event kind.
func Topic(k Kind) string {
	return [...]string{PersonTopic, AuctionTopic, BidTopic}[k]
}

// AppendKey appends the record key of e (its id for people and auctions)
// and reports whether it has one.
func AppendKey(dst []byte, e *Event) ([]byte, bool) {
	switch e.Kind {
	case KindPerson:
		return binary.BigEndian.AppendUint64(dst, uint64(e.Person.ID)), true
	case KindAuction:
		return binary.BigEndian.AppendUint64(dst, uint64(e.Auction.ID)), true
	}
	return dst, false
}

// AppendValue appends e as a JSON object.
func AppendValue(b []byte, e *Event) []byte {
	switch e.Kind {
	case KindPerson:
		p := &e.Person
		b = appendInt(append(b, `{"ID":`...), p.ID)
		b = appendString(append(b, `,"NAME":`...), p.Name)
		b = appendString(append(b, `,"EMAILADDRESS":`...), p.Email)
		b = appendString(append(b, `,"CREDITCARD":`...), p.CreditCard)
		b = appendString(append(b, `,"CITY":`...), p.City)
		b = appendString(append(b, `,"STATE":`...), p.State)
		b = appendInt(append(b, `,"DATETIME":`...), p.DateTime)
		b = appendString(append(b, `,"EXTRA":`...), p.Extra)
	case KindAuction:
		a := &e.Auction
		b = appendInt(append(b, `{"ID":`...), a.ID)
		b = appendString(append(b, `,"ITEMNAME":`...), a.ItemName)
		b = appendString(append(b, `,"DESCRIPTION":`...), a.Description)
		b = appendInt(append(b, `,"INITIALBID":`...), a.InitialBid)
		b = appendInt(append(b, `,"RESERVE":`...), a.Reserve)
		b = appendInt(append(b, `,"DATETIME":`...), a.DateTime)
		b = appendInt(append(b, `,"EXPIRES":`...), a.Expires)
		b = appendInt(append(b, `,"SELLER":`...), a.Seller)
		b = appendInt(append(b, `,"CATEGORY":`...), a.Category)
		b = appendString(append(b, `,"EXTRA":`...), a.Extra)
	default:
		d := &e.Bid
		b = appendInt(append(b, `{"AUCTION":`...), d.Auction)
		b = appendInt(append(b, `,"BIDDER":`...), d.Bidder)
		b = appendInt(append(b, `,"PRICE":`...), d.Price)
		b = appendString(append(b, `,"CHANNEL":`...), d.Channel)
		b = appendString(append(b, `,"URL":`...), d.URL)
		b = appendInt(append(b, `,"DATETIME":`...), d.DateTime)
		b = appendString(append(b, `,"EXTRA":`...), d.Extra)
	}
	return append(b, '}')
}

func appendInt(b []byte, v int64) []byte { return strconv.AppendInt(b, v, 10) }

// appendString writes a JSON string. The generator's strings are ASCII;
// `extra` may hold a backslash (see nextExactString).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, `\u00`...)
			b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
