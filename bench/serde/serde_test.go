// Package serde_test benchmarks Sluice's record formats: serialize plus
// deserialize of a 20-field row in AVRO, JSON_SR and JSON against
// encoding/json on the same data, and schema registry lookups with the
// client-side cache cold and warm. Run with `make bench-serde`.
package serde_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sluicedata/sluice/registry"
	"github.com/sluicedata/sluice/serde"
	"github.com/sluicedata/sluice/serde/srclient"
	"github.com/sluicedata/sluice/sql/types"
	"github.com/sluicedata/sluice/testkit"
)

// row20 is a 20-field order-like row: the shape of a typical CDC value.
var row20Type = types.StructOf(
	types.F("ID", types.Type{Kind: types.Bigint}), types.F("CUSTOMER", types.Type{Kind: types.String}),
	types.F("EMAIL", types.Type{Kind: types.String}), types.F("CITY", types.Type{Kind: types.String}),
	types.F("COUNTRY", types.Type{Kind: types.String}), types.F("ITEMS", types.Type{Kind: types.Int}),
	types.F("AMOUNT", types.Type{Kind: types.Double}), types.F("TAX", types.Type{Kind: types.Double}),
	types.F("PAID", types.Type{Kind: types.Boolean}), types.F("STATUS", types.Type{Kind: types.String}),
	types.F("CHANNEL", types.Type{Kind: types.String}), types.F("CURRENCY", types.Type{Kind: types.String}),
	types.F("COUPON", types.Type{Kind: types.String}), types.F("WAREHOUSE", types.Type{Kind: types.Int}),
	types.F("WEIGHT", types.Type{Kind: types.Double}), types.F("PRIORITY", types.Type{Kind: types.Int}),
	types.F("NOTE", types.Type{Kind: types.String}), types.F("CREATED", types.Type{Kind: types.Bigint}),
	types.F("UPDATED", types.Type{Kind: types.Bigint}), types.F("VERSION", types.Type{Kind: types.Int}),
)

func row20() types.Value {
	return types.StructVal{
		{Name: "ID", Value: int64(1234567)}, {Name: "CUSTOMER", Value: "Ada Lovelace"},
		{Name: "EMAIL", Value: "ada@example.com"}, {Name: "CITY", Value: "London"},
		{Name: "COUNTRY", Value: "GB"}, {Name: "ITEMS", Value: int32(3)},
		{Name: "AMOUNT", Value: 129.95}, {Name: "TAX", Value: 21.66},
		{Name: "PAID", Value: true}, {Name: "STATUS", Value: "SHIPPED"},
		{Name: "CHANNEL", Value: "web"}, {Name: "CURRENCY", Value: "GBP"},
		{Name: "COUPON", Value: nil}, {Name: "WAREHOUSE", Value: int32(7)},
		{Name: "WEIGHT", Value: 2.5}, {Name: "PRIORITY", Value: int32(1)},
		{Name: "NOTE", Value: "leave at the door"}, {Name: "CREATED", Value: int64(1795680000000)},
		{Name: "UPDATED", Value: int64(1795680100000)}, {Name: "VERSION", Value: int32(4)},
	}
}

// order20 is the same row as a Go struct, for the encoding/json baseline.
type order20 struct {
	ID        int64   `json:"ID"`
	Customer  string  `json:"CUSTOMER"`
	Email     string  `json:"EMAIL"`
	City      string  `json:"CITY"`
	Country   string  `json:"COUNTRY"`
	Items     int32   `json:"ITEMS"`
	Amount    float64 `json:"AMOUNT"`
	Tax       float64 `json:"TAX"`
	Paid      bool    `json:"PAID"`
	Status    string  `json:"STATUS"`
	Channel   string  `json:"CHANNEL"`
	Currency  string  `json:"CURRENCY"`
	Coupon    *string `json:"COUPON"`
	Warehouse int32   `json:"WAREHOUSE"`
	Weight    float64 `json:"WEIGHT"`
	Priority  int32   `json:"PRIORITY"`
	Note      string  `json:"NOTE"`
	Created   int64   `json:"CREATED"`
	Updated   int64   `json:"UPDATED"`
	Version   int32   `json:"VERSION"`
}

func startRegistry(b *testing.B) (*srclient.Client, string) {
	br := testkit.StartBroker(b)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := registry.Open(ctx, []string{br.Addr()})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(r.Handler())
	b.Cleanup(func() { srv.Close(); r.Close() })
	return srclient.New(srv.URL), srv.URL
}

// BenchmarkRoundTrip serializes and deserializes the 20-field row; the
// EncodingJSON case is the baseline on the same data.
func BenchmarkRoundTrip(b *testing.B) {
	client, _ := startRegistry(b)
	formats := []serde.Format{serde.Avro{Client: client}, serde.Protobuf{Client: client}, serde.JSONSR{Client: client}, serde.JSON{}}
	ctx := context.Background()
	for _, f := range formats {
		b.Run(f.Name(), func(b *testing.B) {
			ser, err := f.Serializer(row20Type, false)
			if err != nil {
				b.Fatal(err)
			}
			de, err := f.Deserializer(row20Type, false)
			if err != nil {
				b.Fatal(err)
			}
			topic := "bench-" + f.Name()
			v := row20()
			data, err := ser.Serialize(ctx, topic, v) // registers the schema before timing
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				data, err := ser.Serialize(ctx, topic, v)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := de.Deserialize(ctx, topic, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("EncodingJSON", func(b *testing.B) {
		o := order20{ID: 1234567, Customer: "Ada Lovelace", Email: "ada@example.com", City: "London", Country: "GB", Items: 3,
			Amount: 129.95, Tax: 21.66, Paid: true, Status: "SHIPPED", Channel: "web", Currency: "GBP", Warehouse: 7,
			Weight: 2.5, Priority: 1, Note: "leave at the door", Created: 1795680000000, Updated: 1795680100000, Version: 4}
		data, _ := json.Marshal(o)
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			data, err := json.Marshal(o)
			if err != nil {
				b.Fatal(err)
			}
			var back order20
			if err := json.Unmarshal(data, &back); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRegistryLookup fetches a schema by id: Cold with a new client
// each time (an HTTP round trip to the registry), Warm from the cache.
func BenchmarkRegistryLookup(b *testing.B) {
	client, url := startRegistry(b)
	schema, err := serde.AvroSchema(row20Type, serde.DefaultAvroRecordName)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	id, err := client.Register(ctx, "lookup-value", srclient.Schema{Schema: schema})
	if err != nil {
		b.Fatal(fmt.Errorf("register: %w", err))
	}
	b.Run("Cold", func(b *testing.B) {
		for b.Loop() {
			if _, err := srclient.New(url).SchemaByID(ctx, id); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Warm", func(b *testing.B) {
		for b.Loop() {
			if _, err := client.SchemaByID(ctx, id); err != nil {
				b.Fatal(err)
			}
		}
	})
}
