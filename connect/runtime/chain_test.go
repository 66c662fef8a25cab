package runtime

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/connecttest"
)

// Without a header.converter, header values are written as Kafka's
// SimpleHeaderConverter writes them; structs (Debezium's
// __debezium.newkey/oldkey on a primary-key change) included.
func TestHeaderToBytesDefault(t *testing.T) {
	key := &connect.Schema{Type: connect.Struct, Name: "srv.public.t.Key", Fields: []connect.Field{
		{Name: "id", Schema: &connect.Schema{Type: connect.Int32}},
		{Name: "sku", Schema: &connect.Schema{Type: connect.String}},
	}}
	cs := &converters{}
	for _, tc := range []struct {
		h    connect.Header
		want string
		null bool
	}{
		{h: connect.Header{Key: "nil"}, null: true},
		{h: connect.Header{Key: "s", Value: "abc"}, want: "abc"},
		{h: connect.Header{Key: "b", Value: []byte{1, 2}}, want: "\x01\x02"},
		{h: connect.Header{Key: "n", Value: int64(42)}, want: "42"},
		{h: connect.Header{Key: "i", Value: int32(-7)}, want: "-7"},
		{h: connect.Header{Key: "__debezium.newkey", Schema: key, Value: &connect.StructValue{Schema: key, Values: []any{int32(7), `a"b`}}},
			want: `{"id":7,"sku":"a\"b"}`},
	} {
		for _, hs := range []*headerSlab{nil, {}} {
			got, err := cs.headerToBytes("topic", tc.h, hs)
			if err != nil {
				t.Fatalf("%s: %v", tc.h.Key, err)
			}
			if tc.null != (got == nil) || string(got) != tc.want {
				t.Errorf("%s: got %q (nil %v), want %q", tc.h.Key, got, got == nil, tc.want)
			}
		}
	}
}

// sharing is a transform that returns a new record sharing r's value map,
// as transforms that only change the topic or headers do.
type sharing struct{ seen map[string]any }

func (s *sharing) Configure(connect.Config) error { return nil }
func (s *sharing) Apply(r *connect.Record) (*connect.Record, error) {
	s.seen = r.Value.(map[string]any)
	c := r.Clone()
	c.Topic += "-routed"
	return c, nil
}

// An owned record is changed in place by transforms that can, until a
// step hands back another record: after it, maps may be shared and are
// copied again.
func TestChainOwnership(t *testing.T) {
	insert := func() step {
		p, _ := connect.Lookup("InsertField$Value")
		tr := p.NewTransform()
		if err := tr.Configure(connect.Config{"static.field": "src", "static.value": "x"}); err != nil {
			t.Fatal(err)
		}
		return step{alias: "insert", class: "InsertField$Value", t: tr}
	}
	// Owned from the start: the converted map itself gets the field.
	m := map[string]any{"a": int64(1)}
	out, _, err := chain{insert()}.apply(&connect.Record{Value: m}, true)
	if err != nil || out.Value.(map[string]any)["src"] != "x" || m["src"] != "x" {
		t.Fatalf("owned: out %v, converted map %v, err %v", out.Value, m, err)
	}
	// Not owned: the input map stays as it was.
	m = map[string]any{"a": int64(1)}
	out, _, err = chain{insert()}.apply(&connect.Record{Value: m}, false)
	if err != nil || out.Value.(map[string]any)["src"] != "x" || len(m) != 1 {
		t.Fatalf("not owned: out %v, input map %v, err %v", out.Value, m, err)
	}
	// Owned, but after a step that returned a record sharing the map.
	sh := &sharing{}
	m = map[string]any{"a": int64(1)}
	out, _, err = chain{{alias: "share", t: sh}, insert()}.apply(&connect.Record{Value: m}, true)
	if err != nil || out.Value.(map[string]any)["src"] != "x" || len(sh.seen) != 1 {
		t.Fatalf("after sharing: out %v, shared map %v, err %v", out.Value, sh.seen, err)
	}
}

// dropsTopic answers for a leading Filter without a predicate or with a
// topic-only one (negation included), and never for anything else; and it
// agrees with apply, which drops the same records.
func TestChainDropsTopic(t *testing.T) {
	build := func(cfg connect.Config) chain {
		ch, err := buildChain(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	filter := connect.Config{"transforms": "f", "transforms.f.type": "Filter"}
	withPred := func(negate, predType, key, value string) connect.Config {
		cfg := connect.Config{"transforms": "f", "transforms.f.type": "Filter", "transforms.f.predicate": "p",
			"transforms.f.negate": negate, "predicates": "p", "predicates.p.type": predType, "predicates.p." + key: value}
		return cfg
	}
	for _, c := range []struct {
		name  string
		ch    chain
		topic string
		want  bool
	}{
		{"no transforms", nil, "a", false},
		{"filter alone", build(filter), "a", true},
		{"topic predicate, match", build(withPred("false", "TopicNameMatches", "pattern", "a.*")), "abc", true},
		{"topic predicate, no match", build(withPred("false", "TopicNameMatches", "pattern", "a.*")), "xabc", false},
		{"negated, match", build(withPred("true", "TopicNameMatches", "pattern", "a.*")), "abc", false},
		{"negated, no match", build(withPred("true", "TopicNameMatches", "pattern", "a.*")), "xabc", true},
		{"value predicate", build(withPred("false", "HasHeaderKey", "name", "h")), "a", false},
		{"filter not first", build(connect.Config{"transforms": "i,f", "transforms.i.type": "InsertField$Value",
			"transforms.i.static.field": "s", "transforms.i.static.value": "x", "transforms.f.type": "Filter"}), "a", false},
	} {
		if got := c.ch.dropsTopic(c.topic); got != c.want {
			t.Errorf("%s: dropsTopic(%q) = %v, want %v", c.name, c.topic, got, c.want)
		}
		if c.want {
			out, _, err := c.ch.apply(&connect.Record{Topic: c.topic, Value: map[string]any{}}, true)
			if out != nil || err != nil {
				t.Errorf("%s: apply kept the record a dropsTopic said it drops (err %v)", c.name, err)
			}
		}
	}
}

// Without a header.converter the sink reads headers as strings and shares
// a repeated header's string with the record before; what a transform
// does to one record's headers must not reach the next.
func TestSinkHeadersRepeatAndStayApart(t *testing.T) {
	conv, err := buildConverters(connect.Config{"key.converter": connecttest.Converter, "value.converter": connecttest.Converter}, connect.Config{})
	if err != nil {
		t.Fatal(err)
	}
	s := &sinkRun{conv: conv, cc: &connectorConfig{}}
	h := func(kv ...string) []kgo.RecordHeader {
		var out []kgo.RecordHeader
		for i := 0; i < len(kv); i += 2 {
			var v []byte
			if kv[i+1] != "<nil>" {
				v = []byte(kv[i+1])
			}
			out = append(out, kgo.RecordHeader{Key: kv[i], Value: v})
		}
		return out
	}
	in := [][]kgo.RecordHeader{h("a", "1", "b", "x"), h("a", "1", "b", "y"), h("b", "1"), h("a", "<nil>", "b", "y"), h("a", "1", "b", "y", "c", "z")}
	for i, hs := range in {
		var rec connect.Record
		hdrs := make([]connect.Header, 0, len(hs))
		r, f := s.convertOne(context.Background(), &kgo.Record{Topic: "t", Value: []byte("v"), Headers: hs}, &rec, &hdrs)
		if f != nil {
			t.Fatal(f.err)
		}
		if len(r.Headers) != len(hs) {
			t.Fatalf("record %d: %d headers, want %d", i, len(r.Headers), len(hs))
		}
		for j, ch := range r.Headers {
			want := any(string(hs[j].Value))
			if hs[j].Value == nil {
				want = nil
			}
			if ch.Key != hs[j].Key || ch.Value != want {
				t.Fatalf("record %d header %d: %s=%v, want %s=%v", i, j, ch.Key, ch.Value, hs[j].Key, want)
			}
		}
		// As a transform owning the record may do.
		for j := range r.Headers {
			r.Headers[j].Value = "changed"
		}
	}
}
