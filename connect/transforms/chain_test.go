package transforms

import (
	"strings"
	"testing"

	"github.com/sluicedata/sluice/connect"
)

func TestChain(t *testing.T) {
	cfg := connect.Config{
		"name":                                             "sink",
		"transforms":                                       "dropTmp, unwrap ,route,mark",
		"transforms.dropTmp.type":                          "org.apache.kafka.connect.transforms.Filter",
		"transforms.dropTmp.predicate":                     "isTmp",
		"transforms.unwrap.type":                           "io.debezium.transforms.ExtractNewRecordState",
		"transforms.unwrap.add.fields":                     "op",
		"transforms.route.type":                            "RegexRouter",
		"transforms.route.regex":                           `db\.public\.(.*)`,
		"transforms.route.replacement":                     "$1",
		"transforms.mark.type":                             "InsertHeader",
		"transforms.mark.header":                           "traced",
		"transforms.mark.value.literal":                    "yes",
		"transforms.mark.predicate":                        "hasTrace",
		"transforms.mark.negate":                           "true",
		"predicates":                                       "isTmp,hasTrace,unused",
		"predicates.isTmp.type":                            "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
		"predicates.isTmp.pattern":                         "tmp-.*",
		"predicates.hasTrace.type":                         "HasHeaderKey",
		"predicates.hasTrace.name":                         "traced",
		"predicates.unused.type":                           "RecordIsTombstone",
		"transforms.unwrap.delete.tombstone.handling.mode": "tombstone",
	}
	chain, err := NewChain(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if chain.Len() != 4 {
		t.Fatalf("chain has %d stages", chain.Len())
	}

	out, err := chain.Apply(event("c", nil, row(1, "a")))
	if err != nil {
		t.Fatal(err)
	}
	if got := out.Topic + " " + valueView(out) + " | " + headerView(out); got !=
		`t struct<db.public.t.Value>{id:int32,name:string?,__op:string?} {id:1,name:"a",__op:"c"} | traced=string "yes"` {
		t.Errorf("got %s", got)
	}

	// The predicate of mark is negated: a record that already has the
	// header is left alone.
	in := event("c", nil, row(1, "a"))
	in.Headers = []connect.Header{{Key: "traced", Value: "earlier"}}
	if out, _ = chain.Apply(in); headerView(out) != `traced=schemaless "earlier"` {
		t.Errorf("headers %s", headerView(out))
	}

	// Filter applies only to topics matching isTmp.
	if out, err = chain.Apply(&connect.Record{Topic: "tmp-1", Value: "x"}); err != nil || out != nil {
		t.Errorf("tmp record: %v %v, want dropped", out, err)
	}
	// A delete event is dropped by unwrap, and the chain stops there.
	if out, err = chain.Apply(event("d", row(1, "a"), nil)); err != nil || out != nil {
		t.Errorf("delete: %v %v, want dropped", out, err)
	}

	// Errors name the transform.
	bad := connect.Config{"transforms": "c", "transforms.c.type": "Cast$Value", "transforms.c.spec": "name:int32"}
	chain, err = NewChain(bad)
	if err != nil {
		t.Fatal(err)
	}
	_, err = chain.Apply(rec(userSchema, user()))
	if err == nil || !strings.Contains(err.Error(), `transform "c" (org.apache.kafka.connect.transforms.Cast$Value)`) {
		t.Errorf("error %v", err)
	}

	// An empty config is an empty chain.
	chain, err = NewChain(connect.Config{})
	if err != nil || chain.Len() != 0 {
		t.Fatalf("empty chain: %v", err)
	}
	r := rec(nil, "x")
	if out, _ := chain.Apply(r); out != r {
		t.Error("empty chain changed the record")
	}
}

func TestChainValidate(t *testing.T) {
	cfg := connect.Config{
		"transforms":             "a,b,c,d,a",
		"transforms.a.type":      "Cast$Value",
		"transforms.a.spec":      "x:int99",
		"transforms.b.type":      "com.example.Missing",
		"transforms.c.type":      "HoistField$Value",
		"transforms.c.predicate": "nope",
		"transforms.d.type":      "TopicNameMatches",
		"predicates":             "p",
		"predicates.p.type":      "TopicNameMatches",
		"predicates.p.pattern":   "(",
		"transforms.c.negate":    "maybe",
	}
	errs := Validate(cfg)
	got := map[string]string{}
	for _, e := range errs {
		got[e.Field] = e.Message
	}
	want := map[string]string{
		"transforms":             `Duplicate alias provided: "a"`,
		"transforms.a.spec":      `invalid type "int99"`,
		"transforms.b.type":      "Class com.example.Missing could not be found",
		"transforms.c.field":     `Missing required configuration "field"`,
		"transforms.c.predicate": `predicate "nope" is not listed`,
		"transforms.c.negate":    "Expected value to be either true or false",
		"transforms.d.type":      "is a predicate, not a transformation",
		"predicates.p.pattern":   "invalid regular expression",
	}
	for k, w := range want {
		if !strings.Contains(got[k], w) {
			t.Errorf("%s: got %q, want it to mention %q", k, got[k], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("errors: %v", errs)
	}
	if _, err := NewChain(cfg); err == nil || !strings.Contains(err.Error(), "transforms.a.spec") {
		t.Errorf("NewChain error %v should name transforms.a.spec", err)
	}
	if errs := Validate(connect.Config{"transforms": "x"}); len(errs) != 1 || errs[0].Field != "transforms.x.type" {
		t.Errorf("missing type: %v", errs)
	}
}

func TestPredicates(t *testing.T) {
	mk := func(class string, cfg connect.Config) connect.Predicate {
		p, ok := connect.Lookup(class)
		if !ok || p.Spec.Kind != connect.PredicateKind {
			t.Fatalf("%s not a registered predicate", class)
		}
		pr := p.NewPredicate()
		if err := pr.Configure(cfg); err != nil {
			t.Fatal(err)
		}
		return pr
	}
	topic := mk("org.apache.kafka.connect.transforms.predicates.TopicNameMatches", connect.Config{"pattern": "orders|pay.*"})
	header := mk("org.apache.kafka.connect.transforms.predicates.HasHeaderKey", connect.Config{"name": "h"})
	tomb := mk("org.apache.kafka.connect.transforms.predicates.RecordIsTombstone", connect.Config{})
	cases := []struct {
		p    connect.Predicate
		r    *connect.Record
		want bool
	}{
		{topic, &connect.Record{Topic: "orders"}, true},
		{topic, &connect.Record{Topic: "payments"}, true},
		{topic, &connect.Record{Topic: "orders2"}, false},
		{topic, &connect.Record{Topic: "orders2"}, false}, // the remembered answer
		{topic, &connect.Record{Topic: "orders"}, true},
		{topic, &connect.Record{Topic: "orders"}, true},
		{topic, &connect.Record{Topic: ""}, false},
		{header, &connect.Record{Headers: []connect.Header{{Key: "h"}}}, true},
		{header, &connect.Record{Headers: []connect.Header{{Key: "x"}}}, false},
		{tomb, &connect.Record{Key: "k"}, true},
		{tomb, &connect.Record{Key: "k", Value: "v"}, false},
	}
	for i, c := range cases {
		if got := c.p.Test(c.r); got != c.want {
			t.Errorf("case %d: got %v", i, got)
		}
	}
}
