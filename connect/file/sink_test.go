package file

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/connectortest"
)

func startSink(t *testing.T, cfg connect.Config, now func() time.Time) *sinkTask {
	t.Helper()
	cfgs, err := sinkConnector{}.TaskConfigs(cfg, 1)
	if err != nil {
		t.Fatalf("task configs: %v", err)
	}
	tk := &sinkTask{now: now}
	if err := tk.Start(context.Background(), cfgs[0], connectortest.NewTaskContext(t, "sink", 0, nil)); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { tk.Stop() })
	return tk
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var rowSchema = &connect.Schema{Type: connect.Struct, Name: "row", Fields: []connect.Field{
	{Name: "id", Schema: &connect.Schema{Type: connect.Int32}},
	{Name: "name", Schema: &connect.Schema{Type: connect.String, Optional: true}},
}}

func TestSinkLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out", "data.txt")
	tk := startSink(t, connect.Config{"file": path, "topics": "t"}, nil)
	recs := []*connect.Record{
		{Topic: "t", Value: "plain text"},
		{Topic: "t", Value: []byte("raw bytes")},
		{Topic: "t", Value: &connect.StructValue{Schema: rowSchema, Values: []any{int32(7), "ann"}}, ValueSchema: rowSchema},
		{Topic: "t", Value: map[string]any{"k": int64(1)}},
		{Topic: "t", Value: nil},
		{Topic: "t", Value: int64(42)},
	}
	if err := tk.Put(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	if err := tk.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := "plain text\nraw bytes\n{\"id\":7,\"name\":\"ann\"}\n{\"k\":1}\nnull\n42\n"
	if got := read(t, path); got != want {
		t.Fatalf("file:\n%s\nwant:\n%s", got, want)
	}
	// A new task appends.
	tk.Stop()
	tk2 := startSink(t, connect.Config{"file": path, "format": "json"}, nil)
	if err := tk2.Put(context.Background(), []*connect.Record{{Topic: "t", Value: "quoted"}}); err != nil {
		t.Fatal(err)
	}
	if err := tk2.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := read(t, path); got != want+"\"quoted\"\n" {
		t.Fatalf("after append: %q", got)
	}
}

func TestSinkFailedRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data.txt")
	tk := startSink(t, connect.Config{"file": path}, nil)
	bad := &connect.Record{Topic: "t", Partition: 2, Offset: 9, Value: func() {}}
	err := tk.Put(context.Background(), []*connect.Record{{Topic: "t", Value: "a"}, bad, {Topic: "t", Value: "b"}})
	var re *connect.RecordError
	if !errors.As(err, &re) || len(re.Failed) != 1 || re.Failed[bad] == nil || !strings.Contains(re.Failed[bad].Error(), "offset 9 of t-2") {
		t.Fatalf("error %v", err)
	}
	if err := tk.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := read(t, path); got != "a\nb\n" {
		t.Fatalf("file %q", got)
	}
}

func TestSinkPerTopicPartition(t *testing.T) {
	dir := t.TempDir()
	tk := startSink(t, connect.Config{"file": filepath.Join(dir, "${topic}", "p${partition}.log")}, nil)
	err := tk.Put(context.Background(), []*connect.Record{
		{Topic: "a", Partition: 0, Value: "a0"}, {Topic: "b", Partition: 1, Value: "b1"}, {Topic: "a", Partition: 0, Value: "a0'"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tk.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if a, b := read(t, filepath.Join(dir, "a", "p0.log")), read(t, filepath.Join(dir, "b", "p1.log")); a != "a0\na0'\n" || b != "b1\n" {
		t.Fatalf("files %q %q", a, b)
	}
}

func TestSinkRotateBySize(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "data.txt")
	tk := startSink(t, connect.Config{"file": path, "rotate.bytes": "20", "rotate.format": "${file}.${index}"}, nil)
	var recs []*connect.Record
	var want strings.Builder
	for i := range 10 {
		v := strings.Repeat(string(rune('a'+i)), 7) // 8 bytes a line
		recs = append(recs, &connect.Record{Topic: "t", Value: v})
		want.WriteString(v + "\n")
	}
	if err := tk.Put(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	if err := tk.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	// 80 bytes: three rotated files of 24 bytes (3 lines) and 8 bytes active.
	for i := 1; i <= 3; i++ {
		if got := read(t, path+"."+string(rune('0'+i))); len(got) != 24 {
			t.Fatalf("rotated file %d: %q", i, got)
		}
	}
	all := read(t, path+".1") + read(t, path+".2") + read(t, path+".3") + read(t, path)
	if all != want.String() {
		t.Fatalf("content in order:\n%s\nwant\n%s", all, want.String())
	}
}

func TestSinkRotateByTime(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "data.txt")
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	tk := startSink(t, connect.Config{"file": path, "rotate.interval.ms": "60000"}, clock)
	put := func(v string) {
		if err := tk.Put(context.Background(), []*connect.Record{{Topic: "t", Value: v}}); err != nil {
			t.Fatal(err)
		}
	}
	put("one")
	now = now.Add(30 * time.Second)
	put("two")
	if err := tk.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	now = now.Add(31 * time.Second) // the file is 61s old: Flush rotates it
	if err := tk.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	put("three")
	if err := tk.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	if len(names) != 2 || names[1] != "data.txt.20240501T120101.000Z" {
		t.Fatalf("files %v", names)
	}
	if r, a := read(t, filepath.Join(dir, names[1])), read(t, path); r != "one\ntwo\n" || a != "three\n" {
		t.Fatalf("rotated %q active %q", r, a)
	}
	// An idle empty file is not rotated.
	now = now.Add(2 * time.Minute)
	if err := tk.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := tk.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	entries, _ = os.ReadDir(dir)
	if len(entries) != 3 {
		t.Fatalf("%d files after idle flushes, want 3", len(entries))
	}
}

func TestSinkConfigErrors(t *testing.T) {
	cases := []struct {
		cfg  connect.Config
		want string
	}{
		{connect.Config{}, `"file"`},
		{connect.Config{"file": "x", "rotate.bytes": "-1"}, "must be 0 or more"},
		{connect.Config{"file": "x", "rotate.format": "fixed.txt"}, "must contain ${file}"},
		{connect.Config{"file": "x", "format": "csv"}, "must be one of lines, json"},
	}
	for _, c := range cases {
		_, err := sinkConnector{}.TaskConfigs(c.cfg, 1)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("config %v: error %v, want one containing %q", c.cfg, err, c.want)
		}
	}
}

// BenchmarkSinkStructs writes struct records as JSON lines, with a flush
// (fsync) every 10,000 records (records/s reported).
func BenchmarkSinkStructs(b *testing.B) {
	cfgs, _ := sinkConnector{}.TaskConfigs(connect.Config{"file": filepath.Join(b.TempDir(), "out.jsonl")}, 1)
	tk := &sinkTask{}
	if err := tk.Start(context.Background(), cfgs[0], connectortest.NewTaskContext(b, "sink", 0, nil)); err != nil {
		b.Fatal(err)
	}
	defer tk.Stop()
	batch := make([]*connect.Record, 10_000)
	for i := range batch {
		batch[i] = &connect.Record{Topic: "t", ValueSchema: rowSchema,
			Value: &connect.StructValue{Schema: rowSchema, Values: []any{int32(i), "some name"}}}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n += len(batch) {
		if err := tk.Put(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
		if err := tk.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// A crash can leave half a line at the end of the file; the restarted task
// cuts it off before appending, so the redelivered record is whole and not
// glued to the fragment. A file without any newline is emptied; complete
// lines are never touched.
func TestSinkDropsTornLine(t *testing.T) {
	long := strings.Repeat("x", 10000) // longer than one backwards read
	for _, tc := range []struct{ name, before, want string }{
		{"torn", "a\nb\npartial rec", "a\nb\nc\n"},
		{"torn long", "a\n" + long, "a\nc\n"},
		{"no newline at all", "fragment", "c\n"},
		{"complete", "a\nb\n", "a\nb\nc\n"},
		{"long complete", long + "\n", long + "\nc\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out.txt")
			if err := os.WriteFile(path, []byte(tc.before), 0o644); err != nil {
				t.Fatal(err)
			}
			tk := startSink(t, connect.Config{"file": path, "topics": "t"}, nil)
			if err := tk.Put(context.Background(), []*connect.Record{{Topic: "t", Value: "c"}}); err != nil {
				t.Fatal(err)
			}
			if err := tk.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := read(t, path); got != tc.want {
				t.Errorf("file = %.40q..., want %.40q...", got, tc.want)
			}
		})
	}
}
