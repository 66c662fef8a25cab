package parser

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sluicedata/sluice/sql/ast"
)

func corpusText(b *testing.B) string {
	files, _ := filepath.Glob("testdata/*.sql")
	var all []byte
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		all = append(all, src...)
		all = append(all, ";\n"...)
	}
	return string(all)
}

// BenchmarkParseCorpus parses every corpus statement once per iteration.
func BenchmarkParseCorpus(b *testing.B) {
	src := corpusText(b)
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := ParseStatements(src); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFormatCorpus prints every corpus statement once per iteration.
func BenchmarkFormatCorpus(b *testing.B) {
	stmts, err := ParseStatements(corpusText(b))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		for _, s := range stmts {
			_ = ast.Format(s)
		}
	}
}
