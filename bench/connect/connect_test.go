// Package connect_test benchmarks the Connect record path a sink or source
// task runs per record: JSON (schemaless) bytes -> Connect value ->
// ReplaceField -> InsertField -> JSON bytes, and the same with schemas
// (JsonConverter envelope) and with Avro through a schema registry. Run with
// `make bench-connect`; each benchmark reports records/s.
package connect_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/converters"
	"github.com/sluicedata/sluice/connect/transforms"
	"github.com/sluicedata/sluice/registry"
	"github.com/sluicedata/sluice/testkit"
)

// A 20-field order, the shape of a typical CDC row.
const orderJSON = `{"id":1234567,"customer":"Ada Lovelace","email":"ada@example.com","city":"London","country":"GB",` +
	`"items":3,"amount":129.95,"tax":21.66,"paid":true,"status":"SHIPPED","channel":"web","currency":"GBP",` +
	`"coupon":null,"warehouse":7,"weight":2.5,"priority":1,"note":"leave at the door","created":1795680000000,` +
	`"updated":1795680100000,"version":4}`

var chainConfig = connect.Config{
	"transforms":                       "drop,stamp",
	"transforms.drop.type":             "org.apache.kafka.connect.transforms.ReplaceField$Value",
	"transforms.drop.exclude":          "email,coupon",
	"transforms.drop.renames":          "customer:customer_name",
	"transforms.stamp.type":            "org.apache.kafka.connect.transforms.InsertField$Value",
	"transforms.stamp.topic.field":     "source_topic",
	"transforms.stamp.timestamp.field": "ingested_at",
}

func runPath(b *testing.B, cfg connect.Config, in []byte) {
	conv := converters.NewJSON()
	if err := conv.Configure(cfg, false); err != nil {
		b.Fatal(err)
	}
	runWith(b, conv, in)
}

// runWith times conv.ToConnect -> chain -> conv.FromConnect on in.
func runWith(b *testing.B, conv connect.Converter, in []byte) {
	chain, err := transforms.NewChain(chainConfig)
	if err != nil {
		b.Fatal(err)
	}
	ts := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s, v, err := conv.ToConnect("orders", in)
		if err != nil {
			b.Fatal(err)
		}
		r, err := chain.Apply(&connect.Record{Topic: "orders", Partition: 0, ValueSchema: s, Value: v, Timestamp: ts})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := conv.FromConnect(r.Topic, r.ValueSchema, r.Value); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkJSONSchemalessChain: schemas.enable=false, values are maps.
func BenchmarkJSONSchemalessChain(b *testing.B) {
	runPath(b, connect.Config{"schemas.enable": "false"}, []byte(orderJSON))
}

// BenchmarkJSONSchemaChain: schemas.enable=true, values are structs and
// the schema is parsed from every record's envelope and rewritten by both
// transforms.
func BenchmarkJSONSchemaChain(b *testing.B) {
	s, sv := orderStruct(b)
	in, err := converters.NewJSON().FromConnect("orders", s, sv)
	if err != nil {
		b.Fatal(err)
	}
	runPath(b, connect.Config{}, in)
}

// BenchmarkAvroChain: the same struct as Avro through an in-process schema
// registry (ids cached after the first record, as in steady state).
func BenchmarkAvroChain(b *testing.B) {
	broker := testkit.StartBroker(b)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	reg, err := registry.Open(ctx, []string{broker.Addr()})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(reg.Handler())
	defer func() { srv.Close(); reg.Close() }()
	p, _ := connect.Lookup("io.confluent.connect.avro.AvroConverter")
	conv := p.NewConverter()
	if err := conv.Configure(connect.Config{"schema.registry.url": srv.URL}, false); err != nil {
		b.Fatal(err)
	}
	s, sv := orderStruct(b)
	in, err := conv.FromConnect("orders", s, sv)
	if err != nil {
		b.Fatal(err)
	}
	runWith(b, conv, in)
}

// orderStruct is the order as a struct with a schema.
func orderStruct(b *testing.B) (*connect.Schema, *connect.StructValue) {
	conv := converters.NewJSON()
	_, v, err := conv.ToConnect("orders", []byte(`{"schema":null,"payload":`+orderJSON+`}`))
	if err != nil {
		b.Fatal(err)
	}
	m := v.(map[string]any)
	s := &connect.Schema{Type: connect.Struct, Name: "shop.orders.Value"}
	sv := &connect.StructValue{Schema: s}
	for _, name := range []string{"id", "customer", "email", "city", "country", "items", "amount", "tax", "paid", "status",
		"channel", "currency", "coupon", "warehouse", "weight", "priority", "note", "created", "updated", "version"} {
		fs := &connect.Schema{Type: connect.String, Optional: true}
		switch m[name].(type) {
		case int64:
			fs = &connect.Schema{Type: connect.Int64}
		case float64:
			fs = &connect.Schema{Type: connect.Float64}
		case bool:
			fs = &connect.Schema{Type: connect.Boolean}
		}
		s.Fields = append(s.Fields, connect.Field{Name: name, Schema: fs})
		sv.Values = append(sv.Values, m[name])
	}
	return s, sv
}

// BenchmarkJSONSchemalessOwned is BenchmarkJSONSchemalessChain as the sink
// runtime runs it: the converted record belongs to the chain, so
// ReplaceField and InsertField change its map in place (ApplyOwned).
func BenchmarkJSONSchemalessOwned(b *testing.B) {
	conv := converters.NewJSON()
	if err := conv.Configure(connect.Config{"schemas.enable": "false"}, false); err != nil {
		b.Fatal(err)
	}
	var steps []connect.OwnedTransform
	for _, alias := range []string{"drop", "stamp"} {
		prefix := "transforms." + alias + "."
		p, _ := connect.Lookup(chainConfig[prefix+"type"])
		t := p.NewTransform()
		cfg := connect.Config{}
		for k, v := range chainConfig {
			if len(k) > len(prefix) && k[:len(prefix)] == prefix && k != prefix+"type" {
				cfg[k[len(prefix):]] = v
			}
		}
		if err := t.Configure(cfg); err != nil {
			b.Fatal(err)
		}
		steps = append(steps, t.(connect.OwnedTransform))
	}
	in := []byte(orderJSON)
	ts := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s, v, err := conv.ToConnect("orders", in)
		if err != nil {
			b.Fatal(err)
		}
		r := &connect.Record{Topic: "orders", Partition: 0, ValueSchema: s, Value: v, Timestamp: ts}
		for _, t := range steps {
			if r, err = t.ApplyOwned(r); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := conv.FromConnect(r.Topic, r.ValueSchema, r.Value); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkJSONLineToTopic is the source side of a JSON file pipeline: a
// line of JSON to the bytes the JsonConverter (schemas.enable=false) puts
// in the topic, by parsing into a map and printing it (before) and by
// canonicalizing the text (now).
func BenchmarkJSONLineToTopic(b *testing.B) {
	in := []byte(orderJSON)
	conv := converters.NewJSON()
	if err := conv.Configure(connect.Config{"schemas.enable": "false"}, false); err != nil {
		b.Fatal(err)
	}
	b.Run("parse-print", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			v, err := converters.ParseSchemaless(in)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := conv.FromConnect("orders", nil, v); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
	b.Run("canonical", func(b *testing.B) {
		var c converters.Canonicalizer
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			text, ok := c.Object(in, nil)
			if !ok {
				b.Fatal("not canonicalized")
			}
			if _, err := conv.FromJSONText("orders", nil, text); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
}

// BenchmarkJSONDroppedByTopicFilter is what the sink runtime does with a
// record that a Filter with a topic-only predicate drops: before, convert
// it (parse into a map); now, only check that it would convert.
func BenchmarkJSONDroppedByTopicFilter(b *testing.B) {
	in := []byte(orderJSON)
	conv := converters.NewJSON()
	if err := conv.Configure(connect.Config{"schemas.enable": "false"}, false); err != nil {
		b.Fatal(err)
	}
	b.Run("convert", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(in)))
		for i := 0; i < b.N; i++ {
			if _, _, err := conv.ToConnect("returns", in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("check", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(in)))
		for i := 0; i < b.N; i++ {
			if !conv.Check("returns", in) {
				b.Fatal("Check refused a valid order")
			}
		}
	})
}
