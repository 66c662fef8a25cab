package testrunner

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicedata/sluice/sql/ast"
	"github.com/sluicedata/sluice/sql/parser"
)

// Every statement of every SQL fixture round-trips through the printer:
// parse(print(parse(s))) is the same tree, and printing it again gives the
// same text. The designer edits SQL through the tree, so a statement that
// a fixture runs must survive that.
func TestFixtureStatementsRoundTrip(t *testing.T) {
	files, err := filepath.Glob("../testdata/*.sqltest")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, block := range statementBlocks(string(data)) {
			stmts, err := parser.ParseStatements(block)
			if err != nil {
				continue // fixtures of parse errors
			}
			for _, s := range stmts {
				n++
				printed := ast.Format(s)
				again, err := parser.ParseStatement(printed)
				if err != nil {
					t.Errorf("%s: printed form does not parse: %v\n%s", filepath.Base(f), err, printed)
					continue
				}
				if !ast.Equal(s, again) {
					t.Errorf("%s: tree changed through the printer:\n%s", filepath.Base(f), printed)
				}
				if p2 := ast.Format(again); p2 != printed {
					t.Errorf("%s: printing is not stable:\n%s\n%s", filepath.Base(f), printed, p2)
				}
			}
		}
	}
	if n < 300 {
		t.Fatalf("only %d fixture statements round-tripped", n)
	}
	t.Logf("%d fixture statements round-trip", n)
}

// statementBlocks returns the text of each "--- statements" section.
func statementBlocks(text string) []string {
	var out []string
	var cur []string
	in := false
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(line, "--- statements"):
			in, cur = true, nil
		case in && (strings.HasPrefix(line, "--- ") || strings.HasPrefix(line, "=== ")):
			out = append(out, strings.Join(cur, "\n"))
			in = false
		case in:
			cur = append(cur, line)
		}
	}
	if in {
		out = append(out, strings.Join(cur, "\n"))
	}
	return out
}
