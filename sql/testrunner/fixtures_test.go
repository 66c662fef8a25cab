package testrunner

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicedata/sluice/broker"
	"github.com/sluicedata/sluice/registry"
	"github.com/sluicedata/sluice/serde/srclient"
	"github.com/sluicedata/sluice/sql/types"
)

// fixture is one test case of a sql/testdata/*.sqltest file:
//
//	=== name
//	--- statements
//	CREATE STREAM ...;
//	--- input            (optional; one JSON record per line)
//	{"topic": "t", "key": 1, "value": {"A": 1}}
//	--- output           (one JSON record per line)
//	{"topic": "OUT", "key": 1, "value": {"A": 1}}
//	--- error            (instead of output: the run must fail with this text)
//	cannot be resolved
//	--- log              (optional: one substring per processing-log entry)
//	failed to deserialize
//
// A "--- setup" section before the first case holds statements prepended to
// every case of the file. Lines starting with # outside sections are
// comments.
type fixture struct {
	file, name string
	line       int
	statements string
	input      []string
	output     []string
	err        string
	log        []string
	// outLines are the file's line numbers (0-based) of the output
	// records, for -rewrite; rewritten holds their new text.
	outLines  []int
	rewritten []string
}

var rewrite = flag.Bool("rewrite", false, "rewrite the output sections of sql/testdata/*.sqltest with what the engine produces")

func readFixtures(t *testing.T, path string) []*fixture {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []*fixture
	var cur *fixture
	section := ""
	setup := ""
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "=== "):
			cur = &fixture{file: filepath.Base(path), name: strings.TrimSpace(line[4:]), line: n, statements: setup}
			out = append(out, cur)
			section = ""
			continue
		case strings.HasPrefix(line, "--- "):
			section = strings.TrimSpace(line[4:])
			continue
		}
		if cur == nil && section == "setup" {
			setup += line + "\n"
			continue
		}
		if cur == nil || section == "" {
			continue
		}
		trimmed := strings.TrimSpace(line)
		switch section {
		case "statements":
			cur.statements += line + "\n"
		case "input":
			if trimmed != "" {
				cur.input = append(cur.input, trimmed)
			}
		case "output":
			if trimmed != "" {
				cur.output = append(cur.output, trimmed)
				cur.outLines = append(cur.outLines, n-1)
			}
		case "error":
			if trimmed != "" {
				cur.err = trimmed
			}
		case "log":
			if trimmed != "" {
				cur.log = append(cur.log, trimmed)
			}
		default:
			t.Fatalf("%s:%d: unknown section %q", path, n, section)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

var (
	regOnce    sync.Once
	regClient  *srclient.Client
	regErr     error
	regCleanup []func()
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, f := range regCleanup {
		f()
	}
	os.Exit(code)
}

// sharedRegistry starts one broker and schema registry for the whole test
// binary (stopped by TestMain), with compatibility checks off: cases reuse
// topic names with other schemas, as ksql-test-runner's fresh mock registry
// per test allows.
func sharedRegistry(t *testing.T) *srclient.Client {
	regOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sqltest-registry-")
		if err != nil {
			regErr = err
			return
		}
		regCleanup = append(regCleanup, func() { os.RemoveAll(dir) })
		b, err := broker.New(broker.Config{DataDir: dir, Listen: "127.0.0.1:0", NodeID: 1, AutoCreateTopics: true,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			regErr = err
			return
		}
		go b.Serve()
		regCleanup = append([]func(){func() { b.Close() }}, regCleanup...)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		r, err := registry.Open(ctx, []string{b.Addr().String()})
		if err != nil {
			regErr = err
			return
		}
		srv := httptest.NewServer(r.Handler())
		regCleanup = append([]func(){func() { srv.Close(); r.Close() }}, regCleanup...)
		req, _ := http.NewRequest(http.MethodPut, srv.URL+"/config", strings.NewReader(`{"compatibility":"NONE"}`))
		req.Header.Set("Content-Type", srclient.ContentType)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			regErr = err
			return
		}
		res.Body.Close()
		regClient = srclient.New(srv.URL)
	})
	if regErr != nil {
		t.Fatalf("start schema registry: %v", regErr)
	}
	return regClient
}

func usesRegistry(sql string) bool {
	u := strings.ToUpper(sql)
	return strings.Contains(u, "AVRO") || strings.Contains(u, "PROTOBUF") || strings.Contains(u, "JSON_SR")
}

func TestFixtures(t *testing.T) {
	files, err := filepath.Glob("../testdata/*.sqltest")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no fixtures under sql/testdata")
	}
	var all []*fixture
	var reg *srclient.Client
	for _, path := range files {
		for _, fx := range readFixtures(t, path) {
			all = append(all, fx)
			if reg == nil && usesRegistry(fx.statements) {
				reg = sharedRegistry(t)
			}
		}
	}
	total := len(all)
	for _, fx := range all {
		fx := fx
		t.Run(strings.TrimSuffix(fx.file, ".sqltest")+"/"+fx.name, func(t *testing.T) {
			runFixture(t, fx, reg)
		})
	}
	t.Logf("%d fixtures", total)
	if *rewrite {
		rewriteFiles(t, all)
	}
}

func records(field string, lines []string) string {
	return fmt.Sprintf(`{"%s": [%s]}`, field, strings.Join(lines, ",\n"))
}

func runFixture(t *testing.T, fx *fixture, reg *srclient.Client) {
	where := fmt.Sprintf("%s:%d", fx.file, fx.line)
	opts := Options{Registry: reg}
	var inputs []Record
	if len(fx.input) > 0 {
		var err error
		if inputs, err = ParseRecords([]byte(records("inputs", fx.input)), "inputs", "Inputs"); err != nil {
			t.Fatalf("%s: input: %v", where, err)
		}
	}
	var outputs []Record
	if len(fx.output) > 0 || fx.err == "" {
		var err error
		if outputs, err = ParseRecords([]byte(records("outputs", fx.output)), "outputs", "Outputs"); err != nil {
			t.Fatalf("%s: output: %v", where, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	run, err := RunTest(ctx, fx.statements, inputs, len(fx.input) > 0, outputs, opts)
	if fx.err != "" {
		if err == nil {
			t.Fatalf("%s: expected an error containing %q, the test passed", where, fx.err)
		}
		if !strings.Contains(err.Error(), fx.err) {
			t.Fatalf("%s: expected an error containing %q, got: %v", where, fx.err, err)
		}
		return
	}
	if *rewrite && fx.err == "" && run != nil && len(fx.output) > 0 {
		var cmp *CompareError
		if err == nil || errors.As(err, &cmp) {
			fx.rewritten = renderActual(fx.output, run.Actual)
			return
		}
	}
	if err != nil {
		var b bytes.Buffer
		for _, e := range run.Log {
			fmt.Fprintf(&b, "\n\tprocessing log: %s: %s", e.Kind, e.Message)
		}
		t.Fatalf("%s: %v%s", where, err, b.String())
	}
	if fx.log != nil {
		if len(run.Log) != len(fx.log) {
			t.Fatalf("%s: %d processing-log entries, want %d: %+v", where, len(run.Log), len(fx.log), run.Log)
		}
		for i, want := range fx.log {
			if got := run.Log[i].Kind.String() + ": " + run.Log[i].Message; !strings.Contains(got, want) {
				t.Fatalf("%s: processing-log entry %d is %q, want it to contain %q", where, i, got, want)
			}
		}
	}
}

// TestDocsExample runs the paste-able example of docs/sql.md, so the
// documentation cannot drift from what `sluice test` does.
func TestDocsExample(t *testing.T) {
	dir := "../../docs/examples/sql-test/"
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := RunFiles(ctx, dir+"statements.sql", dir+"input.json", dir+"output.json", Options{Registry: sharedRegistry(t)}); err != nil {
		t.Fatal(err)
	}
	// The same with a wrong expectation fails with ksqlDB's message.
	bad := filepath.Join(t.TempDir(), "output.json")
	if err := os.WriteFile(bad, []byte(`{"outputs": [{"topic": "ORDER_ITEMS", "key": 1, "value": {"ITEM": "book"}}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := RunFiles(ctx, dir+"statements.sql", dir+"input.json", bad, Options{Registry: sharedRegistry(t)})
	if err == nil || !strings.Contains(err.Error(), "Topic ORDER_ITEMS. Expected 1 records but it was 3") {
		t.Fatalf("got %v", err)
	}
}

// renderActual writes the actual records as output lines: in the order of
// the expected topics, each topic's records in order.
func renderActual(expected []string, actual []Actual) []string {
	var topics []string
	seen := map[string]bool{}
	for _, line := range expected {
		var r struct {
			Topic string `json:"topic"`
		}
		if json.Unmarshal([]byte(line), &r) == nil && !seen[r.Topic] {
			seen[r.Topic] = true
			topics = append(topics, r.Topic)
		}
	}
	var out []string
	for _, topic := range topics {
		for _, a := range actual {
			if a.Topic != topic {
				continue
			}
			var b strings.Builder
			fmt.Fprintf(&b, `{"topic": %s, "key": %s, "value": %s, "timestamp": %d`, quoteJSON(a.Topic), renderValue(a.Key), renderValue(a.Value), a.Timestamp)
			if len(a.Headers) > 0 {
				b.WriteString(`, "headers": [`)
				for i, h := range a.Headers {
					if i > 0 {
						b.WriteString(", ")
					}
					v := "null"
					if h.Value != nil {
						v = quoteJSON(base64.StdEncoding.EncodeToString(h.Value))
					}
					fmt.Fprintf(&b, `{"KEY": %s, "VALUE": %s}`, quoteJSON(h.Key), v)
				}
				b.WriteString("]")
			}
			b.WriteString("}")
			out = append(out, b.String())
		}
	}
	return out
}

func quoteJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// renderValue prints a value as the test files write it: decimals as
// strings (their scale matters), bytes as base64, structs and maps as
// objects.
func renderValue(v types.Value) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case types.Dec:
		return quoteJSON(x.String())
	case []byte:
		return quoteJSON(base64.StdEncoding.EncodeToString(x))
	case string:
		return quoteJSON(x)
	case float64:
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eEN") {
			s += ".0"
		}
		return s
	case types.StructVal:
		parts := make([]string, len(x))
		for i, f := range x {
			parts[i] = quoteJSON(f.Name) + ": " + renderValue(f.Value)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case map[string]types.Value:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = quoteJSON(k) + ": " + renderValue(x[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case []types.Value:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = renderValue(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return FormatValue(v)
}

// rewriteFiles replaces the output lines of rewritten fixtures in place.
func rewriteFiles(t *testing.T, all []*fixture) {
	byFile := map[string][]*fixture{}
	for _, fx := range all {
		if fx.rewritten != nil {
			byFile[fx.file] = append(byFile[fx.file], fx)
		}
	}
	for file, fxs := range byFile {
		path := filepath.Join("../testdata", file)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(data), "\n")
		replace := map[int][]string{}
		drop := map[int]bool{}
		for _, fx := range fxs {
			first := fx.outLines[0]
			replace[first] = fx.rewritten
			for _, l := range fx.outLines[1:] {
				drop[l] = true
			}
		}
		var out []string
		for i, l := range lines {
			if r, ok := replace[i]; ok {
				out = append(out, r...)
				continue
			}
			if !drop[i] {
				out = append(out, l)
			}
		}
		if err := os.WriteFile(path, []byte(strings.Join(out, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote %d cases of %s", len(fxs), file)
	}
}
