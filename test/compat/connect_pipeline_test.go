package compat

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// pipelineLines is the size of the kill -9 pipeline test: one million short
// lines (9 MB), which the file source -> topic -> file sink pipeline moves in
// a few seconds.
const pipelineLines = 1_000_000

// writeNumberedLines writes n lines l0000000..l{n-1} and returns the file's
// size.
func writeNumberedLines(t *testing.T, path string, n int) int64 {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for i := range n {
		fmt.Fprintf(w, "l%07d\n", i)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	f.Close()
	return st.Size()
}

// lineNumber parses a line written by writeNumberedLines.
func lineNumber(line []byte) (int, bool) {
	if len(line) != 8 || line[0] != 'l' {
		return 0, false
	}
	n, err := strconv.Atoi(string(line[1:]))
	return n, err == nil && n >= 0 && n < pipelineLines
}

// waitFileSize waits until the file at path holds at least size bytes.
func waitFileSize(t *testing.T, path string, size int64) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if st, err := os.Stat(path); err == nil && st.Size() >= size {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s to reach %d bytes", path, size)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sinkAt reports whether the sink's committed offset of partition 0 is at
// least end.
func sinkAt(end int64) func(any) bool {
	return func(v any) bool {
		offs := v.(map[string]any)["offsets"].([]any)
		for _, o := range offs {
			m := o.(map[string]any)
			if m["partition"].(map[string]any)["kafka_partition"] == float64(0) {
				return m["offset"].(map[string]any)["kafka_offset"].(float64) >= float64(end)
			}
		}
		return false
	}
}

// A file source -> topic -> file sink pipeline of a million lines, with
// sluice dev killed (SIGKILL) while the sink is a third of the way through.
// After the restart the sink file holds every line, whole (at-least-once:
// a line may repeat, none is lost or torn). With the exactly-once source
// the topic, read read_committed, holds each line exactly once.
func TestConnectFilePipelineKill(t *testing.T) {
	for _, tc := range []struct {
		name string
		eos  bool
	}{{"at-least-once", false}, {"exactly-once source", true}} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			args := []string{"--group-initial-rebalance-delay", "0"}
			if tc.eos {
				args = append(args, "--connect-exactly-once-source")
			}
			b := startFull(t, args...)
			dir := t.TempDir()
			in, out := filepath.Join(dir, "in.txt"), filepath.Join(dir, "out.txt")
			size := writeNumberedLines(t, in, pipelineLines)
			topic := topicName(t, "lines")

			src := withConverters(map[string]any{"connector.class": "FileStreamSource", "file": in, "topic": topic})
			if tc.eos {
				src["exactly.once.support"] = "required"
			}
			connectCall(t, b, "POST", "/connectors", map[string]any{"name": "src", "config": src}, 201)
			connectCall(t, b, "POST", "/connectors", map[string]any{"name": "snk", "config": withConverters(map[string]any{
				"connector.class": "FileStreamSink", "file": out, "topics": topic})}, 201)

			waitFileSize(t, out, size/3)
			b.kill()
			killedAt, _ := os.Stat(out)
			b.start()

			waitConnect(t, b, "/connectors/src/offsets", "the source to reach the end of the file", func(v any) bool {
				offs := v.(map[string]any)["offsets"].([]any)
				return len(offs) == 1 && offs[0].(map[string]any)["offset"].(map[string]any)["position"] == float64(size)
			})
			// The sink is done once it has committed past the last record
			// (with transactions, the last one before the final marker).
			if !tc.eos {
				end := endOffsets(t, b.admin(t), topic)[0]
				waitConnect(t, b, "/connectors/snk/offsets", "the sink to commit the last record", sinkAt(end))
			} else {
				count, recs := readConnectValues(t, b, topic, true)
				var last int64
				for _, r := range recs {
					last = max(last, r.Offset)
				}
				waitConnect(t, b, "/connectors/snk/offsets", "the sink to commit the last record", sinkAt(last+1))
				if len(recs) != pipelineLines {
					t.Errorf("read_committed: %d records, want %d", len(recs), pipelineLines)
				}
				bad := 0
				for i := range pipelineLines {
					if c := count[fmt.Sprintf("l%07d", i)]; c != 1 && bad < 5 {
						bad++
						t.Errorf("read_committed: l%07d %d times, want once", i, c)
					}
				}
			}

			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			seen := make([]bool, pipelineLines)
			lines, torn := 0, 0
			for line := range bytes.Lines(data) {
				lines++
				n, ok := lineNumber(bytes.TrimSuffix(line, []byte("\n")))
				if !ok || line[len(line)-1] != '\n' {
					if torn++; torn <= 5 {
						t.Errorf("sink file line %d is %q, not a whole source line", lines, line)
					}
					continue
				}
				seen[n] = true
			}
			missing := 0
			for i, ok := range seen {
				if !ok {
					if missing++; missing <= 5 {
						t.Errorf("sink file lacks l%07d", i)
					}
				}
			}
			if missing > 0 || torn > 0 {
				t.Errorf("sink file: %d lines missing, %d torn", missing, torn)
			}
			t.Logf("%s: killed with %d bytes in the sink file; after the restart it holds %d lines (%d repeated); %s in all",
				tc.name, killedAt.Size(), lines, lines-pipelineLines, time.Since(start).Round(time.Millisecond))
		})
	}
}
