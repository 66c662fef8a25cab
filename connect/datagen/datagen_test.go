package datagen

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/connectortest"
)

func startTask(t testing.TB, cfg connect.Config, offsets *connectortest.Offsets) (*task, *connectortest.TaskContext) {
	t.Helper()
	cfgs, err := connector{}.TaskConfigs(cfg, 1)
	if err != nil {
		t.Fatalf("task configs: %v", err)
	}
	tc := connectortest.NewTaskContext(t, "datagen", 0, offsets)
	tk := connector{}.NewTask().(*task)
	if err := tk.Start(context.Background(), cfgs[0], tc); err != nil {
		t.Fatalf("start: %v", err)
	}
	return tk, tc
}

// conforms checks that v is a valid Go value of Connect schema s.
func conforms(v any, s *connect.Schema) error {
	if v == nil {
		if s.Optional {
			return nil
		}
		return fmt.Errorf("null for a required %s", s.Type)
	}
	ok := false
	switch s.Type {
	case connect.Int32:
		if s.Name == connect.DateName || s.Name == connect.TimeName {
			_, ok = v.(time.Time)
		} else {
			_, ok = v.(int32)
		}
	case connect.Int64:
		if s.Name == connect.TimestampName {
			_, ok = v.(time.Time)
		} else {
			_, ok = v.(int64)
		}
	case connect.Float32:
		_, ok = v.(float32)
	case connect.Float64:
		_, ok = v.(float64)
	case connect.Boolean:
		_, ok = v.(bool)
	case connect.String:
		_, ok = v.(string)
	case connect.Bytes:
		_, ok = v.([]byte)
	case connect.Array:
		arr, isArr := v.([]any)
		for _, e := range arr {
			if err := conforms(e, s.Value); err != nil {
				return err
			}
		}
		ok = isArr
	case connect.Map:
		m, isMap := v.(map[string]any)
		for _, e := range m {
			if err := conforms(e, s.Value); err != nil {
				return err
			}
		}
		ok = isMap
	case connect.Struct:
		sv, isStruct := v.(*connect.StructValue)
		if !isStruct || sv.Schema != s || len(sv.Values) != len(s.Fields) {
			return fmt.Errorf("%T is not a struct of %s", v, s.Name)
		}
		for i, f := range s.Fields {
			if err := conforms(sv.Values[i], f.Schema); err != nil {
				return fmt.Errorf("field %s: %w", f.Name, err)
			}
		}
		ok = true
	}
	if !ok {
		return fmt.Errorf("%T (%v) is not a %s", v, v, s.Type)
	}
	return nil
}

func TestQuickstartsGenerateValidRecords(t *testing.T) {
	if len(Quickstarts()) != len(quickstartKeys) || len(Quickstarts()) < 23 {
		t.Fatalf("quickstarts: %v", Quickstarts())
	}
	for _, q := range Quickstarts() {
		t.Run(q, func(t *testing.T) {
			tk, tc := startTask(t, connect.Config{"kafka.topic": q, "quickstart": strings.ToUpper(q), "max.interval": "0", "batch.size": "50"}, nil)
			recs := connectortest.PollN(t, tk, tc, 200, true, 5*time.Second)
			if len(recs) != 200 {
				t.Fatalf("%d records in 4 batches of 50", len(recs))
			}
			for i, r := range recs {
				if r.Topic != q || r.Partition != -1 {
					t.Fatalf("record %d: topic %q partition %d", i, r.Topic, r.Partition)
				}
				if err := conforms(r.Value, r.ValueSchema); err != nil {
					t.Fatalf("record %d: %v", i, err)
				}
				want := keyString(r.Value.(*connect.StructValue).Get(quickstartKeys[q]))
				if r.Key != want || r.KeySchema.Type != connect.String {
					t.Fatalf("record %d: key %v, want %v", i, r.Key, want)
				}
				// The last record of each batch of 50 carries the offset.
				if i%50 == 49 {
					if it, _ := offsetInt(r.SourceOffset, keyIteration); it != int64(i+1) || r.SourcePartition[keyTaskID] != int64(0) {
						t.Fatalf("record %d: partition %v offset %v", i, r.SourcePartition, r.SourceOffset)
					}
				} else if r.SourceOffset != nil || r.SourcePartition != nil {
					t.Fatalf("record %d inside a batch has offset %v", i, r.SourceOffset)
				}
			}
		})
	}
}

func TestQuickstartShapes(t *testing.T) {
	get := func(q string, n int) []*connect.StructValue {
		tk, tc := startTask(t, connect.Config{"kafka.topic": "t", "quickstart": q, "max.interval": "0", "random.seed": "7"}, nil)
		var out []*connect.StructValue
		for _, r := range connectortest.PollN(t, tk, tc, n, false, 5*time.Second)[:n] {
			out = append(out, r.Value.(*connect.StructValue))
		}
		return out
	}
	for i, o := range get("orders", 100) {
		if o.Get("orderid") != int32(i) {
			t.Fatalf("orders: orderid %v at %d", o.Get("orderid"), i)
		}
		if !regexp.MustCompile(`^Item_[1-9][0-9]{0,2}$`).MatchString(o.Get("itemid").(string)) {
			t.Fatalf("orders: itemid %q", o.Get("itemid"))
		}
		if u := o.Get("orderunits").(float64); u < 0.1 || u >= 10 {
			t.Fatalf("orders: orderunits %v", u)
		}
		addr := o.Get("address").(*connect.StructValue)
		if z := addr.Get("zipcode").(int64); z < 10000 || z > 99999 {
			t.Fatalf("orders: zipcode %v", z)
		}
	}
	for i, p := range get("pageviews", 10) {
		if p.Get("viewtime") != int64(1+10*i) {
			t.Fatalf("pageviews: viewtime %v at %d", p.Get("viewtime"), i)
		}
	}
	sides := map[any]int{}
	for _, s := range get("stock_trades", 300) {
		sides[s.Get("side")]++
		if q := s.Get("quantity").(int32); q < 1 || q > 5000 {
			t.Fatalf("stock_trades: quantity %d", q)
		}
	}
	if len(sides) != 3 || sides["BUY"] == 0 || sides["SELL"] == 0 || sides["SHORT"] == 0 {
		t.Fatalf("stock_trades: sides %v", sides)
	}
	for _, s := range get("stores", 50) {
		if id := s.Get("store_id").(int32); id < 1 || id > 7 || s.Get("city") == "" {
			t.Fatalf("stores: %v", s.Values)
		}
	}
	for _, r := range get("ratings", 100) {
		if s := r.Get("stars").(int32); s < 1 || s > 5 {
			t.Fatalf("ratings: stars %d", s)
		}
	}
	for _, l := range get("fleet_mgmt_location", 10) {
		if ts := l.Get("ts").(time.Time); ts.Year() != 2021 {
			t.Fatalf("fleet_mgmt_location: ts %v", ts)
		}
	}
}

const argSchema = `{"type": "record", "name": "Thing", "namespace": "test", "fields": [
  {"name": "id", "type": {"type": "long", "arg.properties": {"iteration": {"start": 100, "step": 5}}}},
  {"name": "cycle", "type": {"type": "int", "arg.properties": {"iteration": {"start": 1, "restart": 4}}}},
  {"name": "down", "type": {"type": "int", "arg.properties": {"iteration": {"start": 3, "restart": 0}}}},
  {"name": "n", "type": {"type": "int", "arg.properties": {"range": {"min": -3, "max": 3}}}},
  {"name": "f", "type": {"type": "float", "arg.properties": {"range": {"min": 1.5, "max": 2.5}}}},
  {"name": "code", "type": {"type": "string", "arg.properties": {"regex": "(AB|CD)-[0-9a-f]{4}\\.x?z+"}}},
  {"name": "color", "type": {"type": "string", "arg.properties": {"options": ["red", "green"]}}},
  {"name": "word", "type": {"type": "string", "arg.properties": {"length": {"min": 3, "max": 5}}}},
  {"name": "flag", "type": {"type": "boolean", "arg.properties": {"odds": 1.0}}},
  {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B"]}},
  {"name": "tags", "type": {"type": "array", "items": {"type": "string", "arg.properties": {"options": ["x", "y"]}}, "arg.properties": {"length": 2}}},
  {"name": "attrs", "type": {"type": "map", "values": "int", "arg.properties": {"length": 1, "keys": {"regex": "k[0-9]"}}}},
  {"name": "maybe", "type": ["null", {"type": "string", "arg.properties": {"options": ["v"]}}]},
  {"name": "again", "type": "Kind"},
  {"name": "raw", "type": {"type": "fixed", "name": "Four", "size": 4}}
]}`

func TestArgProperties(t *testing.T) {
	tk, tc := startTask(t, connect.Config{"kafka.topic": "t", "schema.string": argSchema, "schema.keyfield": "id", "max.interval": "0"}, nil)
	recs := connectortest.PollN(t, tk, tc, 400, false, 5*time.Second)[:400]
	codeRe := regexp.MustCompile(`^(AB|CD)-[0-9a-f]{4}\.x?z+$`)
	nulls, kinds := 0, map[any]bool{}
	if tk.schema.Name != "test.Thing" {
		t.Fatalf("schema name %q", tk.schema.Name)
	}
	for i, r := range recs {
		v := r.Value.(*connect.StructValue)
		if err := conforms(v, r.ValueSchema); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if v.Get("id") != int64(100+5*i) || r.Key != fmt.Sprint(100+5*i) {
			t.Fatalf("record %d: id %v key %v", i, v.Get("id"), r.Key)
		}
		if v.Get("cycle") != int32(1+i%3) {
			t.Fatalf("record %d: cycle %v", i, v.Get("cycle"))
		}
		if v.Get("down") != int32(3-i%3) {
			t.Fatalf("record %d: down %v", i, v.Get("down"))
		}
		if n := v.Get("n").(int32); n < -3 || n >= 3 {
			t.Fatalf("record %d: n %d", i, n)
		}
		if f := v.Get("f").(float32); f < 1.5 || f >= 2.5 {
			t.Fatalf("record %d: f %v", i, f)
		}
		if c := v.Get("code").(string); !codeRe.MatchString(c) {
			t.Fatalf("record %d: code %q", i, c)
		}
		if c := v.Get("color"); c != "red" && c != "green" {
			t.Fatalf("record %d: color %v", i, c)
		}
		if w := v.Get("word").(string); len(w) < 3 || len(w) >= 5 {
			t.Fatalf("record %d: word %q", i, w)
		}
		if v.Get("flag") != true {
			t.Fatalf("record %d: flag %v", i, v.Get("flag"))
		}
		kinds[v.Get("kind")] = true
		if tags := v.Get("tags").([]any); len(tags) != 2 {
			t.Fatalf("record %d: tags %v", i, tags)
		}
		attrs := v.Get("attrs").(map[string]any)
		for k := range attrs {
			if !regexp.MustCompile(`^k[0-9]$`).MatchString(k) || len(attrs) != 1 {
				t.Fatalf("record %d: attrs %v", i, attrs)
			}
		}
		if v.Get("maybe") == nil {
			nulls++
		} else if v.Get("maybe") != "v" {
			t.Fatalf("record %d: maybe %v", i, v.Get("maybe"))
		}
		if len(v.Get("raw").([]byte)) != 4 {
			t.Fatalf("record %d: raw %v", i, v.Get("raw"))
		}
	}
	if nulls < 100 || nulls > 300 {
		t.Fatalf("optional field null %d times of 400, want about half", nulls)
	}
	if !kinds["A"] || !kinds["B"] || len(kinds) != 2 {
		t.Fatalf("enum values %v", kinds)
	}
	f, _, _ := tk.schema.Field("kind")
	if f.Schema.Parameters["io.confluent.connect.avro.Enum"] != "test.Kind" {
		t.Fatalf("enum parameters %v", f.Schema.Parameters)
	}
	if f, _, _ := tk.schema.Field("maybe"); !f.Schema.Optional {
		t.Fatal("union with null is not optional")
	}
}

func TestUnions(t *testing.T) {
	schema := `{"type":"record","name":"r","fields":[
	  {"name":"u","type":["null","int",{"type":"string","arg.properties":{"options":["s"]}},{"type":"record","name":"Pt","namespace":"geo","fields":[{"name":"x","type":"int"}]}]},
	  {"name":"plain","type":["long"]},
	  {"name":"opt","type":["null","geo.Pt"]}]}`
	tk, tc := startTask(t, connect.Config{"kafka.topic": "t", "schema.string": schema, "max.interval": "0"}, nil)
	u, _, _ := tk.schema.Field("u")
	if u.Schema.Name != "io.confluent.connect.avro.Union" || !u.Schema.Optional || len(u.Schema.Fields) != 3 ||
		u.Schema.Fields[0].Name != "int" || u.Schema.Fields[1].Name != "string" || u.Schema.Fields[2].Name != "Pt" {
		t.Fatalf("union schema %+v", u.Schema)
	}
	seen := map[string]int{}
	for _, r := range connectortest.PollN(t, tk, tc, 400, false, 5*time.Second)[:400] {
		v := r.Value.(*connect.StructValue)
		if err := conforms(v, r.ValueSchema); err != nil {
			t.Fatal(err)
		}
		if o, ok := v.Get("opt").(*connect.StructValue); ok && !o.Schema.Optional {
			t.Fatalf("optional record value with schema %+v", o.Schema)
		}
		uv, _ := v.Get("u").(*connect.StructValue)
		if uv == nil {
			seen["null"]++
			continue
		}
		set := 0
		for i, x := range uv.Values {
			if x != nil {
				set++
				seen[uv.Schema.Fields[i].Name]++
			}
		}
		if set != 1 {
			t.Fatalf("union value with %d branches set: %v", set, uv.Values)
		}
	}
	for _, b := range []string{"null", "int", "string", "Pt"} {
		if seen[b] < 50 {
			t.Fatalf("branch %s picked %d times of 400: %v", b, seen[b], seen)
		}
	}
}

// A restarted task continues from the stored iteration and, with a fixed
// seed, produces the records an uninterrupted task would have.
func TestRestartContinuesIteration(t *testing.T) {
	cfg := connect.Config{"kafka.topic": "t", "quickstart": "orders", "max.interval": "0", "batch.size": "7", "random.seed": "42"}
	whole, tc := startTask(t, cfg, nil)
	want := connectortest.PollN(t, whole, tc, 35, false, 5*time.Second)[:35]

	offsets := connectortest.NewOffsets()
	first, tc1 := startTask(t, cfg, offsets)
	got := connectortest.PollN(t, first, tc1, 14, true, 5*time.Second)
	first.Stop()
	second, tc2 := startTask(t, cfg, offsets)
	got = append(got, connectortest.PollN(t, second, tc2, 21, true, 5*time.Second)...)
	for i := range want {
		if !reflect.DeepEqual(got[i].Value, want[i].Value) || got[i].Key != want[i].Key {
			t.Fatalf("record %d after restart: %v, want %v", i, got[i].Value, want[i].Value)
		}
	}
	if g := got[20].Headers[0].Value; g != int64(1) {
		t.Fatalf("task.generation header after restart %v, want 1", g)
	}
	if it := got[20].Headers[2].Value; it != int64(20) {
		t.Fatalf("current.iteration header %v, want 20", it)
	}
}

func TestIterationsLimit(t *testing.T) {
	offsets := connectortest.NewOffsets()
	cfg := connect.Config{"kafka.topic": "t", "quickstart": "users", "max.interval": "0", "iterations": "25", "batch.size": "10"}
	tk, tc := startTask(t, cfg, offsets)
	recs := connectortest.PollN(t, tk, tc, 25, true, 5*time.Second)
	if len(recs) != 25 {
		t.Fatalf("got %d records, want 25", len(recs))
	}
	if more := connectortest.PollQuiet(t, tk, 50*time.Millisecond); len(more) != 0 {
		t.Fatalf("got %d records past iterations", len(more))
	}
	// A restart after the limit produces nothing either.
	again, _ := startTask(t, cfg, offsets)
	if more := connectortest.PollQuiet(t, again, 50*time.Millisecond); len(more) != 0 {
		t.Fatalf("restarted task produced %d records past iterations", len(more))
	}
}

func TestMaxIntervalOneRecordPerPoll(t *testing.T) {
	tk, _ := startTask(t, connect.Config{"kafka.topic": "t", "quickstart": "users", "max.interval": "2"}, nil)
	for range 5 {
		recs, err := tk.Poll(context.Background())
		if err != nil || len(recs) != 1 {
			t.Fatalf("poll: %d records, %v", len(recs), err)
		}
	}
}

func TestTasksGetTheirOwnStreams(t *testing.T) {
	cfgs, err := connector{}.TaskConfigs(connect.Config{"kafka.topic": "t", "quickstart": "stock_trades", "random.seed": "1", "max.interval": "0"}, 3)
	if err != nil || len(cfgs) != 3 {
		t.Fatalf("task configs: %v %v", cfgs, err)
	}
	var firsts []any
	for i, c := range cfgs {
		if c[keyTaskID] != fmt.Sprint(i) {
			t.Fatalf("task %d config %v", i, c)
		}
		tk := &task{}
		tc := connectortest.NewTaskContext(t, "d", i, nil)
		if err := tk.Start(context.Background(), c, tc); err != nil {
			t.Fatal(err)
		}
		recs := connectortest.PollN(t, tk, tc, 5, false, time.Second)
		if p := recs[len(recs)-1].SourcePartition; p[keyTaskID] != int64(i) {
			t.Fatalf("partition %v", p)
		}
		firsts = append(firsts, recs[0].Value.(*connect.StructValue).Values)
	}
	if reflect.DeepEqual(firsts[0], firsts[1]) && reflect.DeepEqual(firsts[1], firsts[2]) {
		t.Fatalf("all tasks generated the same data: %v", firsts)
	}
}

func TestSchemaFile(t *testing.T) {
	path := t.TempDir() + "/s.avsc"
	if err := os.WriteFile(path, []byte(`{"type":"record","name":"r","fields":[{"name":"a","type":{"type":"int","arg.properties":{"options":[7]}}}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tk, tc := startTask(t, connect.Config{"kafka.topic": "t", "schema.filename": path, "max.interval": "0"}, nil)
	r := connectortest.PollN(t, tk, tc, 1, false, time.Second)[0]
	if r.Value.(*connect.StructValue).Get("a") != int32(7) || r.Key != nil {
		t.Fatalf("record %v key %v", r.Value, r.Key)
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		cfg  connect.Config
		want string
	}{
		{connect.Config{"quickstart": "orders"}, "kafka.topic"},
		{connect.Config{"kafka.topic": "t"}, "exactly one of quickstart"},
		{connect.Config{"kafka.topic": "t", "quickstart": "orders", "schema.string": argSchema}, "exactly one of quickstart"},
		{connect.Config{"kafka.topic": "t", "quickstart": "nope"}, "must be one of"},
		{connect.Config{"kafka.topic": "t", "quickstart": "orders", "schema.keyfield": "zzz"}, `schema.keyfield "zzz"`},
		{connect.Config{"kafka.topic": "t", "quickstart": "orders", "max.interval": "-1"}, "must be 0 or more"},
		{connect.Config{"kafka.topic": "t", "schema.filename": "/nonexistent/x.avsc"}, "schema.filename"},
		{connect.Config{"kafka.topic": "t", "schema.string": `{"type":"record","name":"r","fields":[{"name":"a","type":{"type":"string","arg.properties":{"regex":"a("}}}]}`}, "schema.a: regex"},
		{connect.Config{"kafka.topic": "t", "schema.string": `{"type":"record","name":"r","fields":[{"name":"a","type":{"type":"int","arg.properties":{"range":{"min":5,"max":5}}}}]}`}, "range.max (5) must be greater"},
		{connect.Config{"kafka.topic": "t", "schema.string": `{"type":"record","name":"r","fields":[{"name":"a","type":["null"]}]}`}, "a branch other than null"},
		{connect.Config{"kafka.topic": "t", "schema.string": `{"type":"record","name":"r","fields":[{"name":"a","type":["int",{"type":"int"}]}]}`}, "two branches of type int"},
		{connect.Config{"kafka.topic": "t", "schema.string": `"int"`}, "top-level type must be a record"},
		{connect.Config{"kafka.topic": "t", "schema.string": `{"type":"record","name":"r","fields":[{"name":"a","type":"Nope"}]}`}, `unknown type "Nope"`},
		{connect.Config{"kafka.topic": "t", "schema.string": `{"type":"record","name":"r","fields":[{"name":"a","type":{"type":"int","arg.properties":{"options":["x"]}}}]}`}, "option 0"},
	}
	for _, c := range cases {
		_, err := connector{}.TaskConfigs(c.cfg, 1)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("config %v: error %v, want one containing %q", c.cfg, err, c.want)
		}
	}
}

func TestRegistered(t *testing.T) {
	for _, n := range []string{"datagen", "io.confluent.kafka.connect.datagen.DatagenConnector"} {
		p, ok := connect.Lookup(n)
		if !ok || p.NewSource == nil || p.Spec.Kind != connect.SourceKind {
			t.Fatalf("%s not registered as a source", n)
		}
	}
	for _, f := range Spec.Fields {
		if f.Doc == "" || f.Type == "" {
			t.Errorf("field %s lacks a doc or type", f.Name)
		}
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPoll measures generation with max.interval=0 (records/s is
// reported; the goal is >= 500k per core).
func BenchmarkPoll(b *testing.B) {
	for _, q := range []string{"orders", "pageviews", "stock_trades", "orders/text"} {
		b.Run(q, func(b *testing.B) {
			cfg := connect.Config{"kafka.topic": "t", "quickstart": strings.TrimSuffix(q, "/text"), "max.interval": "0", "batch.size": "1000", "random.seed": "1"}
			var tk *task
			if strings.HasSuffix(q, "/text") { // values as JSON text (UseJSONText)
				tk = startTextTask(b, cfg, nil)
			} else {
				tk, _ = startTask(b, cfg, nil)
			}
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			n := 0
			for n < b.N {
				recs, err := tk.Poll(ctx)
				if err != nil {
					b.Fatal(err)
				}
				n += len(recs)
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
			// CPU time of the process (GC included): the per-core rate,
			// whatever else runs on the machine.
			b.ReportMetric(float64(n)/(cpuTime()-cpu0).Seconds(), "records/cpu-s")
		})
	}
}
