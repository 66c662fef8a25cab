package parser

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sluicedata/sluice/sql/ast"
)

// FuzzParse checks that the parser never panics and that whatever parses
// round-trips: print, parse again, same tree, same print. The seed corpus is
// every statement of testdata/*.sql.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.sql")
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		chunks, err := Split(string(src))
		if err != nil {
			f.Fatal(err)
		}
		for _, c := range chunks {
			f.Add(c.Text)
		}
	}
	for _, s := range []string{"", ";", "-", "--", "/*", "'", "`", "\"", "${", "1e", ".5e", "a--1", "- -1", "SELECT -(-1) FROM s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		stmts, err := ParseTestStatements(src)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		for _, s := range stmts {
			printed := ast.Format(s)
			back, err := parseOne(printed)
			if err != nil {
				t.Fatalf("%q printed as %q, which does not parse: %v", src, printed, err)
			}
			if !ast.Equal(s, back) {
				t.Fatalf("%q printed as %q, which parses to a different tree", src, printed)
			}
			if again := ast.Format(back); again != printed {
				t.Fatalf("unstable print: %q then %q", printed, again)
			}
			if pretty, err := parseOne(ast.FormatPretty(s)); err != nil || !ast.Equal(s, pretty) {
				t.Fatalf("%q pretty-printed as %q, which does not read back: %v", src, ast.FormatPretty(s), err)
			}
		}
		_, _ = Substitute(src, Variables{"a": "x"})
	})
}
