package parser

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/sluicedata/sluice/sql/ast"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the golden files under testdata/")

// corpus returns the statements of every testdata/*.sql file by file name.
func corpus(t testing.TB) map[string][]ast.Statement {
	t.Helper()
	files, err := filepath.Glob("testdata/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus files: %v", err)
	}
	out := map[string][]ast.Statement{}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		stmts, err := ParseTestStatements(string(src))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[f] = stmts
	}
	return out
}

// TestCorpusRoundTrip parses every corpus statement, prints it, parses the
// print and checks that the trees are equal and the print is stable; the
// prints are compared with the golden files.
func TestCorpusRoundTrip(t *testing.T) {
	total := 0
	for file, stmts := range corpus(t) {
		var golden strings.Builder
		for _, s := range stmts {
			printed := ast.Format(s)
			back, err := parseOne(printed)
			if err != nil {
				t.Errorf("%s: %s\nreparse of %q: %v", file, s.Position(), printed, err)
				continue
			}
			if !ast.Equal(s, back) {
				t.Errorf("%s: %s: tree changed through %q", file, s.Position(), printed)
			}
			if again := ast.Format(back); again != printed {
				t.Errorf("%s: %s: print not stable:\n%s\n%s", file, s.Position(), printed, again)
			}
			if pretty, err := parseOne(ast.FormatPretty(s)); err != nil || !ast.Equal(s, pretty) {
				t.Errorf("%s: %s: pretty print does not read back (%v):\n%s", file, s.Position(), err, ast.FormatPretty(s))
			}
			golden.WriteString(printed + ";\n")
		}
		total += len(stmts)
		goldenFile := strings.TrimSuffix(file, ".sql") + ".golden"
		if *rewrite {
			if err := os.WriteFile(goldenFile, []byte(golden.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(goldenFile)
		if err != nil {
			t.Fatalf("%v (run go test -rewrite to create it)", err)
		}
		if string(want) != golden.String() {
			t.Errorf("%s: printed form differs from %s (go test -rewrite to update):\n%s", file, goldenFile, diff(string(want), golden.String()))
		}
	}
	if total < 250 {
		t.Errorf("corpus has %d statements, want at least 250", total)
	}
}

func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, c string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			c = g[i]
		}
		if a != c {
			b.WriteString("- " + a + "\n+ " + c + "\n")
		}
	}
	return b.String()
}

// TestCorpusCoversEveryNode checks that the corpus holds every node type of
// package ast, so that the round trip is tested for each.
func TestCorpusCoversEveryNode(t *testing.T) {
	seen := map[string]bool{}
	for _, stmts := range corpus(t) {
		for _, s := range stmts {
			collect(reflect.ValueOf(s), seen)
		}
	}
	all := []ast.Node{
		// statements
		&ast.CreateSource{}, &ast.CreateAsSelect{}, &ast.InsertInto{}, &ast.InsertValues{}, &ast.Query{},
		&ast.CreateType{}, &ast.DropType{}, &ast.AlterSource{}, &ast.DropSource{}, &ast.Show{},
		&ast.Describe{}, &ast.DescribeSources{}, &ast.DescribeFunction{}, &ast.DescribeConnector{},
		&ast.Explain{}, &ast.Terminate{}, &ast.Pause{}, &ast.Resume{}, &ast.SetProperty{},
		&ast.AlterSystem{}, &ast.UnsetProperty{}, &ast.DefineVariable{}, &ast.UndefineVariable{},
		&ast.Print{}, &ast.CreateConnector{}, &ast.DropConnector{}, &ast.AssertTopic{},
		&ast.AssertSchema{}, &ast.RunScript{}, &ast.AssertValues{}, &ast.AssertTombstone{}, &ast.AssertSource{},
		// query parts
		&ast.SelectExpr{}, &ast.SelectAll{}, &ast.SelectStructAll{}, &ast.Source{}, &ast.Join{},
		&ast.JoinWindow{}, &ast.Window{}, &ast.Type{},
		// expressions
		&ast.IntLit{}, &ast.BigintLit{}, &ast.DecimalLit{}, &ast.DoubleLit{}, &ast.StringLit{},
		&ast.BoolLit{}, &ast.NullLit{}, &ast.ColumnRef{}, &ast.LambdaVar{}, &ast.Dereference{},
		&ast.Subscript{}, &ast.FuncCall{}, &ast.IntervalUnit{}, &ast.Cast{}, &ast.Case{},
		&ast.Between{}, &ast.Like{}, &ast.InList{}, &ast.IsNull{}, &ast.IsDistinctFrom{},
		&ast.Binary{}, &ast.Unary{}, &ast.AtTimeZone{}, &ast.ArrayCtor{}, &ast.MapCtor{},
		&ast.StructCtor{}, &ast.Lambda{},
	}
	var missing []string
	for _, n := range all {
		name := reflect.TypeOf(n).Elem().Name()
		if !seen[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("corpus lacks node types: %v", missing)
	}
}

func collect(v reflect.Value, seen map[string]bool) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			collect(v.Elem(), seen)
		}
	case reflect.Struct:
		seen[v.Type().Name()] = true
		for i := range v.NumField() {
			collect(v.Field(i), seen)
		}
	case reflect.Slice:
		for i := range v.Len() {
			collect(v.Index(i), seen)
		}
	}
}

// parseOne parses one statement, test statements included.
func parseOne(text string) (ast.Statement, error) {
	stmts, err := ParseTestStatements(text)
	if err != nil {
		return nil, err
	}
	if len(stmts) != 1 {
		return nil, fmt.Errorf("%d statements in %q", len(stmts), text)
	}
	return stmts[0], nil
}
