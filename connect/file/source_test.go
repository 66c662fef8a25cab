package file

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/connectortest"
	"github.com/sluicedata/sluice/connect/converters"
)

func startSource(t testing.TB, cfg connect.Config, offsets *connectortest.Offsets) (*sourceTask, *connectortest.TaskContext) {
	t.Helper()
	return startSourceTask(t, cfg, offsets, 0, 1)
}

func startSourceTask(t testing.TB, cfg connect.Config, offsets *connectortest.Offsets, i, n int) (*sourceTask, *connectortest.TaskContext) {
	t.Helper()
	cfgs, err := sourceConnector{}.TaskConfigs(cfg, n)
	if err != nil {
		t.Fatalf("task configs: %v", err)
	}
	tc := connectortest.NewTaskContext(t, "file", i, offsets)
	tk := sourceConnector{}.NewTask().(*sourceTask)
	if err := tk.Start(context.Background(), cfgs[i], tc); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { tk.Stop() })
	return tk, tc
}

func write(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func appendTo(t testing.TB, path, content string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// values are the records' values, JSON text (format=json) decoded.
func values(recs []*connect.Record) []any {
	out := make([]any, len(recs))
	for i, r := range recs {
		out[i] = r.Value
		if r.ValueJSON != nil {
			v, err := converters.ParseSchemaless(r.ValueJSON)
			if err != nil {
				panic(err)
			}
			out[i] = v
		}
	}
	return out
}

func numberedLines(from, to int) string {
	var b strings.Builder
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	return b.String()
}

func TestLinesWithOffsets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.txt")
	write(t, path, "first\r\n\nthird\nno newline")
	tk, tc := startSource(t, connect.Config{"file": path, "topic": "lines"}, nil)
	recs := connectortest.PollN(t, tk, tc, 4, true, 5*time.Second)
	if got := values(recs); !reflect.DeepEqual(got, []any{"first", "", "third", "no newline"}) {
		t.Fatalf("values %q", got)
	}
	wantPos := []int64{7, 8, 14, 24}
	for i, r := range recs {
		if r.Topic != "lines" || r.ValueSchema.Type != connect.String || r.Key != nil {
			t.Fatalf("record %d: %+v", i, r)
		}
		if r.SourcePartition[keyFilename] != path || r.SourceOffset[keyPosition] != wantPos[i] {
			t.Fatalf("record %d: partition %v offset %v, want position %d", i, r.SourcePartition, r.SourceOffset, wantPos[i])
		}
	}
	if more := connectortest.PollQuiet(t, tk, 30*time.Millisecond); len(more) != 0 {
		t.Fatalf("read %d more records from a finished file", len(more))
	}
}

// Only acknowledged records count: a task restarted after a crash resumes
// after the last stored offset (the records after it come again, none is
// lost), and after a clean stop it resumes exactly after the last record.
func TestResume(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.txt")
	write(t, path, numberedLines(0, 1000))
	offsets := connectortest.NewOffsets()
	cfg := connect.Config{"file": path, "topic": "t", "batch.size": "100"}

	tk, tc := startSource(t, cfg, offsets)
	acked := connectortest.PollN(t, tk, tc, 300, true, 5*time.Second)
	unacked := connectortest.PollN(t, tk, tc, 100, false, 5*time.Second) // lost in a crash
	tk.Stop()
	if len(acked) != 300 || unacked[0].Value != "line 300" {
		t.Fatalf("first run: %d acked, first unacked %v", len(acked), unacked[0].Value)
	}

	tk2, tc2 := startSource(t, cfg, offsets)
	recs := connectortest.PollN(t, tk2, tc2, 700, true, 5*time.Second)
	if len(recs) != 700 || recs[0].Value != "line 300" || recs[699].Value != "line 999" {
		t.Fatalf("after restart: %d records from %v to %v", len(recs), recs[0].Value, recs[len(recs)-1].Value)
	}
	tk2.Stop()

	appendTo(t, path, "line 1000\n")
	tk3, tc3 := startSource(t, cfg, offsets)
	recs = connectortest.PollN(t, tk3, tc3, 1, true, 5*time.Second)
	if len(recs) != 1 || recs[0].Value != "line 1000" {
		t.Fatalf("after a clean stop: %v", values(recs))
	}
}

func TestTail(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	write(t, path, "a\nb\npart")
	tk, tc := startSource(t, connect.Config{"file": path, "topic": "t", "tail": "true", "poll.interval.ms": "5"}, nil)
	if got := values(connectortest.PollN(t, tk, tc, 2, true, 5*time.Second)); !reflect.DeepEqual(got, []any{"a", "b"}) {
		t.Fatalf("initial %v", got)
	}
	// The unterminated line waits for its end.
	appendTo(t, path, "ial\nc\n")
	if got := values(connectortest.PollN(t, tk, tc, 2, true, 5*time.Second)); !reflect.DeepEqual(got, []any{"partial", "c"}) {
		t.Fatalf("appended %v", got)
	}
	// Rotation: lines written to the old file before the move are read, then the new file.
	appendTo(t, path, "d\n")
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	write(t, path, "e\n")
	if got := values(connectortest.PollN(t, tk, tc, 2, true, 5*time.Second)); !reflect.DeepEqual(got, []any{"d", "e"}) {
		t.Fatalf("after rotation %v", got)
	}
	// Truncation in place (seen when the file is shorter than what was read):
	// read from the start again.
	appendTo(t, path, "a longer line\n")
	if recs := connectortest.PollN(t, tk, tc, 1, true, 5*time.Second); recs[0].Value != "a longer line" {
		t.Fatalf("before truncation %v", recs[0].Value)
	}
	write(t, path, "")
	appendTo(t, path, "f\n")
	recs := connectortest.PollN(t, tk, tc, 1, true, 5*time.Second)
	if recs[0].Value != "f" || recs[0].SourceOffset[keyPosition] != int64(2) {
		t.Fatalf("after truncation %v %v", recs[0].Value, recs[0].SourceOffset)
	}
}

func TestLongLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "long.txt")
	long := strings.Repeat("x", 200_000) // longer than the 64 KiB read buffer
	write(t, path, "a\n"+long+"\nb\n"+long)
	tk, tc := startSource(t, connect.Config{"file": path, "topic": "t"}, nil)
	recs := connectortest.PollN(t, tk, tc, 4, true, 5*time.Second)
	if got := values(recs); !reflect.DeepEqual(got, []any{"a", long, "b", long}) {
		t.Fatalf("got %d records with lengths %d %d %d %d", len(got), len(got[0].(string)), len(got[1].(string)), len(got[2].(string)), len(got[3].(string)))
	}
	if recs[3].SourceOffset[keyPosition] != int64(2+200_001+2+200_000) {
		t.Fatalf("offset %v", recs[3].SourceOffset)
	}
}

func TestGlobAndTasks(t *testing.T) {
	dir := t.TempDir()
	want := map[string]bool{}
	for f := range 6 {
		var b strings.Builder
		for l := range 50 {
			fmt.Fprintf(&b, "%d-%d\n", f, l)
			want[fmt.Sprintf("%d-%d", f, l)] = true
		}
		write(t, filepath.Join(dir, fmt.Sprintf("part-%d.log", f)), b.String())
	}
	write(t, filepath.Join(dir, "other.txt"), "not matched\n")
	cfg := connect.Config{"file": filepath.Join(dir, "part-*.log"), "topic": "t", "batch.size": "20"}

	got := map[string]bool{}
	filesPerTask := []int{}
	for i := range 2 {
		tk, tc := startSourceTask(t, cfg, nil, i, 2)
		n := 0
		for _, r := range tk.readers {
			n++
			_ = r
		}
		filesPerTask = append(filesPerTask, n)
		recs := connectortest.PollN(t, tk, tc, 50*n, true, 5*time.Second)
		// Interleaved: the first batches come from different files.
		if n > 1 && recs[0].SourcePartition[keyFilename] == recs[20].SourcePartition[keyFilename] {
			t.Errorf("task %d did not alternate between files", i)
		}
		for _, r := range recs {
			s := r.Value.(string)
			if got[s] {
				t.Fatalf("line %s read twice", s)
			}
			got[s] = true
			prefix := strings.Split(s, "-")[0]
			if !strings.HasSuffix(r.SourcePartition[keyFilename].(string), "part-"+prefix+".log") {
				t.Fatalf("line %s with partition %v", s, r.SourcePartition)
			}
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("read %d lines, want %d (files per task %v)", len(got), len(want), filesPerTask)
	}

	// A file matching the glob later is picked up.
	tk, tc := startSource(t, connect.Config{"file": filepath.Join(dir, "late-*.log"), "topic": "t", "poll.interval.ms": "5"}, nil)
	write(t, filepath.Join(dir, "late-1.log"), "late\n")
	if recs := connectortest.PollN(t, tk, tc, 1, true, 5*time.Second); recs[0].Value != "late" {
		t.Fatalf("late file: %v", recs[0].Value)
	}
}

func TestJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.ndjson")
	write(t, path, `{"id": 1, "price": 2.5, "tags": ["a"], "nested": {"big": 12345678901234}}`+"\n\n"+`{"id": 2, "ok": true, "none": null}`+"\n")
	tk, tc := startSource(t, connect.Config{"file": path, "topic": "t", "format": "json"}, nil)
	recs := connectortest.PollN(t, tk, tc, 2, true, 5*time.Second)
	want := []any{
		map[string]any{"id": int64(1), "price": 2.5, "tags": []any{"a"}, "nested": map[string]any{"big": int64(12345678901234)}},
		map[string]any{"id": int64(2), "ok": true, "none": nil},
	}
	if got := values(recs); !reflect.DeepEqual(got, want) || recs[0].ValueSchema != nil {
		t.Fatalf("values %#v", got)
	}
	// Handed over as the text a JSON converter writes: keys sorted, no spaces.
	if got, want := string(recs[0].ValueJSON), `{"id":1,"nested":{"big":12345678901234},"price":2.5,"tags":["a"]}`; got != want {
		t.Fatalf("ValueJSON %s, want %s", got, want)
	}
	if recs[1].SourceOffset[keyPosition] != int64(len(`{"id": 1, "price": 2.5, "tags": ["a"], "nested": {"big": 12345678901234}}`)+2+len(`{"id": 2, "ok": true, "none": null}`)+1) {
		t.Fatalf("offset %v", recs[1].SourceOffset)
	}

	bad := filepath.Join(t.TempDir(), "bad.ndjson")
	write(t, bad, "{\"a\":1}\n[1,2]\n")
	tk2, _ := startSource(t, connect.Config{"file": bad, "topic": "t", "format": "json"}, nil)
	_, err := tk2.Poll(context.Background())
	if err == nil || !strings.Contains(err.Error(), "bad.ndjson: line at byte 8: expected a JSON object, got an array") {
		t.Fatalf("error %v", err)
	}
}

func TestCSV(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "in.csv")
	write(t, path, "id,name,note\n1,ann,\"says \"\"hi\"\", twice\"\n2,bob\n\n3,cy,\"two\nlines\"\n")
	offsets := connectortest.NewOffsets()
	cfg := connect.Config{"file": path, "topic": "t", "format": "csv", "batch.size": "2"}
	tk, tc := startSource(t, cfg, offsets)
	recs := connectortest.PollN(t, tk, tc, 2, true, 5*time.Second)
	s := recs[0].ValueSchema
	if s.Type != connect.Struct || len(s.Fields) != 3 || s.Fields[1].Name != "name" || !s.Fields[2].Schema.Optional {
		t.Fatalf("schema %+v", s)
	}
	if v := recs[0].Value.(*connect.StructValue).Values; !reflect.DeepEqual(v, []any{"1", "ann", `says "hi", twice`}) {
		t.Fatalf("row 1 %q", v)
	}
	if v := recs[1].Value.(*connect.StructValue).Values; !reflect.DeepEqual(v, []any{"2", "bob", nil}) {
		t.Fatalf("row 2 %q", v)
	}
	tk.Stop()
	// A restart in the middle of the file still knows the columns.
	tk2, tc2 := startSource(t, cfg, offsets)
	recs = connectortest.PollN(t, tk2, tc2, 1, true, 5*time.Second)
	if v := recs[0].Value.(*connect.StructValue); !reflect.DeepEqual(v.Values, []any{"3", "cy", "two\nlines"}) || v.Get("note") != "two\nlines" {
		t.Fatalf("row 3 %q", v.Values)
	}

	// csv.columns names the columns; the header row is skipped.
	tk3, tc3 := startSource(t, connect.Config{"file": path, "topic": "t", "format": "csv", "csv.columns": "a,b,c"}, nil)
	recs = connectortest.PollN(t, tk3, tc3, 3, true, 5*time.Second)
	if len(recs) != 3 || recs[0].Value.(*connect.StructValue).Get("a") != "1" {
		t.Fatalf("with csv.columns: %v", values(recs))
	}

	// No header, tab-separated, too many fields.
	tsv := filepath.Join(dir, "in.tsv")
	write(t, tsv, "x\ty\nx\ty\tz\n")
	tk4, _ := startSource(t, connect.Config{"file": tsv, "topic": "t", "format": "csv", "csv.header": "false", "csv.columns": "a,b", "csv.delimiter": `\t`}, nil)
	if _, err := tk4.Poll(context.Background()); err == nil || !strings.Contains(err.Error(), "row at byte 4 has 3 fields, more than the 2 columns") {
		t.Fatalf("error %v", err)
	}
}

func TestSourceConfigErrors(t *testing.T) {
	cases := []struct {
		cfg  connect.Config
		want string
	}{
		{connect.Config{"topic": "t"}, `"file"`},
		{connect.Config{"file": "x"}, `"topic"`},
		{connect.Config{"file": "x", "topic": "t", "format": "xml"}, "must be one of lines, json, csv"},
		{connect.Config{"file": "x", "topic": "t", "csv.delimiter": ";;"}, "csv.delimiter"},
		{connect.Config{"file": "[", "topic": "t"}, "syntax error in pattern"},
		{connect.Config{"file": "x", "topic": "t", "batch.size": "0"}, "must be at least 1"},
	}
	for _, c := range cases {
		_, err := sourceConnector{}.TaskConfigs(c.cfg, 1)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("config %v: error %v, want one containing %q", c.cfg, err, c.want)
		}
	}
	path := filepath.Join(t.TempDir(), "empty.csv")
	write(t, path, "")
	tk := &sourceTask{}
	err := tk.Start(context.Background(), connect.Config{"file": path, "topic": "t", "format": "csv"}, connectortest.NewTaskContext(t, "f", 0, nil))
	if err == nil || !strings.Contains(err.Error(), "expected a CSV header row") {
		t.Fatalf("empty csv: %v", err)
	}
}

func TestRegistered(t *testing.T) {
	for _, n := range []string{"file-source", "org.apache.kafka.connect.file.FileStreamSourceConnector", "FileStreamSource"} {
		if p, ok := connect.Lookup(n); !ok || p.NewSource == nil {
			t.Errorf("%s is not a registered source", n)
		}
	}
	for _, n := range []string{"file-sink", "org.apache.kafka.connect.file.FileStreamSinkConnector", "FileStreamSink"} {
		if p, ok := connect.Lookup(n); !ok || p.NewSink == nil {
			t.Errorf("%s is not a registered sink", n)
		}
	}
}

func TestMillionLines(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 1-million-line file")
	}
	n := 1_000_000
	if raceEnabled {
		n = 50_000
	}
	path := filepath.Join(t.TempDir(), "big.txt")
	write(t, path, numberedLines(0, n))
	tk, tc := startSource(t, connect.Config{"file": path, "topic": "t", "batch.size": "5000"}, nil)
	start := time.Now()
	recs := connectortest.PollN(t, tk, tc, n, true, 60*time.Second)
	t.Logf("%d lines in %v", n, time.Since(start))
	if len(recs) != n || recs[n-1].Value != fmt.Sprintf("line %d", n-1) {
		t.Fatalf("%d records, last %v", len(recs), recs[len(recs)-1].Value)
	}
}

// BenchmarkLines reads a file of b.N lines (records/s reported); use
// -benchtime 1000000x for the 1-million-line file.
func BenchmarkLines(b *testing.B) {
	path := filepath.Join(b.TempDir(), "big.txt")
	write(b, path, numberedLines(0, b.N))
	tk, tc := startSource(b, connect.Config{"file": path, "topic": "t", "batch.size": "5000"}, nil)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	n := len(connectortest.PollN(b, tk, tc, b.N, false, 5*time.Minute))
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(n)/(cpuTime()-cpu0).Seconds(), "records/cpu-s")
}

// cpuTime is the process's CPU time (GC included), for a per-core rate that
// holds whatever else runs on the machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// With UseJSONText the texts of a poll share one buffer, reused by the
// next poll: each poll's records hold the same text as without it.
func TestJSONTextReused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.ndjson")
	var lines strings.Builder
	for i := range 9 {
		fmt.Fprintf(&lines, `{"n": %d, "s": "%s", "a": [%d]}`+"\n", i, strings.Repeat("x", i*40), i)
		if i == 4 {
			lines.WriteString(`{"rep": 1, "rep": 2}` + "\n") // not canonicalized: parsed instead
		}
	}
	write(t, path, lines.String())
	poll := func(useText bool) []string {
		cfgs, err := sourceConnector{}.TaskConfigs(connect.Config{"file": path, "topic": "t", "format": "json", "batch.size": "3"}, 1)
		if err != nil {
			t.Fatal(err)
		}
		tk := sourceConnector{}.NewTask().(*sourceTask)
		if useText {
			tk.UseJSONText()
		}
		if err := tk.Start(context.Background(), cfgs[0], connectortest.NewTaskContext(t, "file", 0, nil)); err != nil {
			t.Fatal(err)
		}
		defer tk.Stop()
		var texts []string
		for len(texts) < 10 {
			recs, err := tk.Poll(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs { // read before the next poll, as the runtime does
				if r.ValueJSON != nil {
					texts = append(texts, string(r.ValueJSON))
				} else {
					texts = append(texts, fmt.Sprint(r.Value))
				}
			}
		}
		return texts
	}
	got, want := poll(true), poll(false)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("with UseJSONText:\n%q\nwithout:\n%q", got, want)
	}
}
