package registry

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type compatCase struct {
	file, name string
	line       int
	typ        string
	old        []string
	next       string
	verdicts   []verdict
}

type verdict struct {
	level      string
	compatible bool
	substr     string
	line       int
}

func readCompatCases(t testing.TB) []compatCase {
	t.Helper()
	files, err := filepath.Glob("testdata/compat/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	var out []compatCase
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var cur *compatCase
		n := 0
		for sc.Scan() {
			n++
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			if name, ok := strings.CutPrefix(line, "=== "); ok {
				out = append(out, compatCase{file: f, name: name, line: n, typ: TypeAvro})
				cur = &out[len(out)-1]
				continue
			}
			if cur == nil {
				t.Fatalf("%s:%d: line before the first case", f, n)
			}
			word, rest, _ := strings.Cut(line, " ")
			switch word {
			case "type":
				cur.typ = rest
			case "old":
				cur.old = append(cur.old, rest)
			case "new":
				cur.next = rest
			default:
				if !validLevel(word) {
					t.Fatalf("%s:%d: unknown line %q", f, n, line)
				}
				v := verdict{level: word, line: n}
				verdictWord, substr, _ := strings.Cut(rest, " ")
				switch verdictWord {
				case "compatible":
					v.compatible = true
				case "incompatible":
				default:
					t.Fatalf("%s:%d: want compatible or incompatible, got %q", f, n, verdictWord)
				}
				v.substr = substr
				cur.verdicts = append(cur.verdicts, v)
			}
		}
		fh.Close()
	}
	return out
}

// TestCompatFixtures runs every case of testdata/compat/*.txt: each verdict
// line is one check of the new schema against the old ones at one level.
func TestCompatFixtures(t *testing.T) {
	cases := readCompatCases(t)
	checks := map[string]int{}
	for _, c := range cases {
		t.Run(filepath.Base(c.file)+"/"+c.name, func(t *testing.T) {
			if c.next == "" || len(c.old) == 0 || len(c.verdicts) == 0 {
				t.Fatalf("%s:%d: a case needs old, new and verdicts", c.file, c.line)
			}
			next, err := parseSchema(c.typ, c.next, nil)
			if err != nil {
				t.Fatalf("%s:%d: new schema: %v", c.file, c.line, err)
			}
			var prev []parsed
			var versions []int
			for i, o := range c.old {
				p, err := parseSchema(c.typ, o, nil)
				if err != nil {
					t.Fatalf("%s:%d: old schema %d: %v", c.file, c.line, i+1, err)
				}
				prev = append(prev, p)
				versions = append(versions, i+1)
			}
			for _, v := range c.verdicts {
				checks[c.typ]++
				msgs := checkCompat(v.level, next, prev, versions)
				if got := len(msgs) == 0; got != v.compatible {
					t.Errorf("%s:%d: %s: compatible=%v, want %v; messages: %q", c.file, v.line, v.level, got, v.compatible, msgs)
					continue
				}
				if v.substr != "" && !strings.Contains(strings.Join(msgs, "\n"), v.substr) {
					t.Errorf("%s:%d: %s: messages %q do not mention %q", c.file, v.line, v.level, msgs, v.substr)
				}
			}
		})
	}
	t.Logf("%d cases, checks per type: %v", len(cases), checks)
}
