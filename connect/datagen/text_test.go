package datagen

import (
	"bytes"
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/connectortest"
	"github.com/sluicedata/sluice/connect/converters"
)

func startTextTask(t testing.TB, cfg connect.Config, offsets *connectortest.Offsets) *task {
	t.Helper()
	cfgs, err := connector{}.TaskConfigs(cfg, 1)
	if err != nil {
		t.Fatalf("task configs: %v", err)
	}
	tc := connectortest.NewTaskContext(t, "datagen", 0, offsets)
	tk := connector{}.NewTask().(*task)
	tk.UseJSONText()
	if err := tk.Start(context.Background(), cfgs[0], tc); err != nil {
		t.Fatalf("start: %v", err)
	}
	return tk
}

func jsonConverter(t testing.TB, cfg connect.Config) *converters.JSON {
	t.Helper()
	c := &converters.JSON{}
	if err := c.Configure(cfg, false); err != nil {
		t.Fatal(err)
	}
	return c
}

// With UseJSONText, every quickstart and schema writes, for each record,
// the bytes the JsonConverter writes for the Go value the task generates
// without it, under each converter setting that changes a payload, with
// the same key, headers, offsets and random draws.
func TestJSONTextIsWhatTheConverterWrites(t *testing.T) {
	type source struct {
		name string
		cfg  connect.Config
	}
	var sources []source
	for _, q := range Quickstarts() {
		sources = append(sources, source{q, connect.Config{"quickstart": q}})
	}
	sources = append(sources,
		source{"arg properties", connect.Config{"schema.string": argSchema, "schema.keyfield": "id"}},
		source{"string key", connect.Config{"schema.string": argSchema, "schema.keyfield": "code"}},
		source{"escapes", connect.Config{"schema.string": `{"type":"record","name":"e","fields":[
		  {"name":"s\"q","type":{"type":"string","arg.properties":{"regex":"[\"\\\\\\t\u00e9a]{0,6}"}}},
		  {"name":"o","type":{"type":"string","arg.properties":{"options":["a\"b","c\\d","\u00fc"]}}},
		  {"name":"f","type":{"type":"float","arg.properties":{"range":{"min":-1e9,"max":1e9}}}},
		  {"name":"d","type":{"type":"double","arg.properties":{"range":{"min":-1e-6,"max":1e-6}}}},
		  {"name":"i","type":{"type":"int","arg.properties":{"range":{"min":-3000000000,"max":3000000000}}}},
		  {"name":"t","type":{"type":"long","logicalType":"timestamp-millis"}},
		  {"name":"day","type":{"type":"int","logicalType":"date","arg.properties":{"range":{"min":0,"max":30000}}}},
		  {"name":"it","type":{"type":"float","arg.properties":{"iteration":{"start":0.5,"step":0.25}}}},
		  {"name":"itd","type":{"type":"double","arg.properties":{"iteration":{"start":1e6,"step":123.5}}}},
		  {"name":"its","type":{"type":"string","arg.properties":{"iteration":{"start":7,"step":3}}}},
		  {"name":"itb","type":{"type":"boolean","arg.properties":{"iteration":{"start":0}}}},
		  {"name":"opt","type":["null",{"type":"record","name":"in","fields":[{"name":"x","type":"int"}]}]},
		  {"name":"rec","type":{"type":"record","name":"pick","fields":[{"name":"y","type":"string"}],"arg.properties":{"options":[{"y":"one"},{"y":"two"}]}}},
		  {"name":"b","type":"bytes"}
		]}`, "schema.keyfield": "s\"q"}},
	)
	settings := []connect.Config{
		{"schemas.enable": "false"},
		{"schemas.enable": "true"},
		{"schemas.enable": "true", "decimal.format": "NUMERIC", "replace.null.with.default": "false"},
	}
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			cfg := connect.Config{"kafka.topic": "t", "max.interval": "0", "batch.size": "97", "random.seed": "5"}
			for k, v := range src.cfg {
				cfg[k] = v
			}
			plain, tc := startTask(t, cfg, nil)
			want := connectortest.PollN(t, plain, tc, 300, false, 5*time.Second)[:300]
			text := startTextTask(t, cfg, nil)
			if !text.text {
				t.Fatal("the task does not generate JSON text")
			}
			var got []*connect.Record
			for len(got) < len(want) {
				recs, err := text.Poll(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				// The task reuses a batch's memory for the next
				// (connect.JSONTextSourceTask): keep copies.
				for _, r := range recs {
					c := *r
					c.ValueJSON = bytes.Clone(r.ValueJSON)
					c.Headers = slices.Clone(r.Headers)
					got = append(got, &c)
				}
			}
			for _, set := range settings {
				conv := jsonConverter(t, set)
				for i, w := range want {
					g := got[i]
					if g.Value != nil || !reflect.DeepEqual(g.ValueSchema, w.ValueSchema) {
						t.Fatalf("record %d: text record with value %v, schema %p (want %p)", i, g.Value, g.ValueSchema, w.ValueSchema)
					}
					wb, err := conv.FromConnect("t", w.ValueSchema, w.Value)
					if err != nil {
						t.Fatal(err)
					}
					gb, err := conv.FromJSONText("t", g.ValueSchema, g.ValueJSON)
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(gb, wb) {
						t.Fatalf("record %d with %v:\n got %s\nwant %s", i, set, gb, wb)
					}
					if g.Key != w.Key || g.Topic != w.Topic || g.Partition != w.Partition ||
						!reflect.DeepEqual(g.Headers, w.Headers) ||
						!reflect.DeepEqual(g.SourceOffset, w.SourceOffset) || !reflect.DeepEqual(g.SourcePartition, w.SourcePartition) {
						t.Fatalf("record %d: got key %v headers %v offset %v, want %v %v %v", i, g.Key, g.Headers, g.SourceOffset, w.Key, w.Headers, w.SourceOffset)
					}
				}
			}
		})
	}
}

// A key field whose text cannot be read back as keyString makes it (a
// float, an optional field) keeps the task on Go values.
func TestJSONTextNeedsATextKey(t *testing.T) {
	for _, key := range []string{"f", "maybe"} {
		tk := startTextTask(t, connect.Config{"kafka.topic": "t", "schema.string": argSchema, "schema.keyfield": key, "max.interval": "0"}, nil)
		if tk.text {
			t.Fatalf("key field %s: JSON text", key)
		}
		recs, err := tk.Poll(context.Background())
		if err != nil || len(recs) == 0 || recs[0].Value == nil || recs[0].ValueJSON != nil {
			t.Fatalf("key field %s: %v %v", key, recs, err)
		}
	}
}

// BenchmarkPollToJSON measures what the source side of the datagen
// pipeline does per record before producing: generate the orders record
// and write it with the JsonConverter (schemas.enable=false), as Go
// values printed by FromConnect (what the runtime does with transforms or
// before UseJSONText) and as JSON text (UseJSONText).
func BenchmarkPollToJSON(b *testing.B) {
	for _, mode := range []string{"values", "text"} {
		b.Run(mode, func(b *testing.B) {
			cfg := connect.Config{"kafka.topic": "t", "quickstart": "orders", "max.interval": "0", "batch.size": "1000", "random.seed": "1"}
			var tk *task
			if mode == "text" {
				tk = startTextTask(b, cfg, nil)
			} else {
				tk, _ = startTask(b, cfg, nil)
			}
			conv := jsonConverter(b, connect.Config{"schemas.enable": "false"})
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
				for _, r := range recs {
					if r.ValueJSON != nil {
						_, err = conv.FromJSONText("t", r.ValueSchema, r.ValueJSON)
					} else {
						_, err = conv.FromConnect("t", r.ValueSchema, r.Value)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				n += len(recs)
			}
			b.ReportMetric(float64(n)/(cpuTime()-cpu0).Seconds(), "records/cpu-s")
		})
	}
}

// A text batch reuses the memory of the one before (the runtime is done
// with it when it polls again), and each batch is what a fresh task
// would give.
func TestJSONTextReusesBatchMemory(t *testing.T) {
	cfg := connect.Config{"kafka.topic": "t", "quickstart": "orders", "max.interval": "0", "batch.size": "50", "random.seed": "3"}
	tk := startTextTask(t, cfg, nil)
	fresh := startTextTask(t, cfg, nil)
	var first *connect.Record
	for poll := range 4 {
		recs, err := tk.Poll(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if poll == 0 {
			first = recs[0]
		} else if recs[0] != first {
			t.Errorf("poll %d: a new record slab", poll)
		}
		// The fresh task's records come from batches never reused.
		fresh.textRecs, fresh.textOut, fresh.textHeaders, fresh.textBuf = nil, nil, nil, nil
		want, err := fresh.Poll(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for i := range recs {
			g, w := recs[i], want[i]
			if !bytes.Equal(g.ValueJSON, w.ValueJSON) || g.Key != w.Key || !reflect.DeepEqual(g.Headers, w.Headers) ||
				!reflect.DeepEqual(g.SourceOffset, w.SourceOffset) || (g.SourcePartition == nil) != (w.SourcePartition == nil) {
				t.Fatalf("poll %d record %d: got %s %v %v %v, want %s %v %v %v", poll, i, g.ValueJSON, g.Key, g.Headers, g.SourceOffset,
					w.ValueJSON, w.Key, w.Headers, w.SourceOffset)
			}
		}
	}
}
