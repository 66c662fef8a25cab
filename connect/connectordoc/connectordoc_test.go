package connectordoc

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/connecttest"
)

func TestWritesPagesFromSpecs(t *testing.T) {
	connecttest.Register()
	var plugins []*connect.Plugin
	for _, name := range []string{connecttest.Sink, connecttest.Source} {
		p, _ := connect.Lookup(name)
		plugins = append(plugins, p)
	}
	dir := t.TempDir()
	files, err := Write(dir, plugins)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 3 {
		t.Fatalf("files = %v", files)
	}
	page, err := os.ReadFile(filepath.Join(dir, connecttest.Source+".md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"# test.Source (source connector)",
		"`test.Source` or `org.sluice.test.TestSourceConnector`",
		`"topic": "<string>"`,
		"| `count` | LONG | `0` |  |",
		"| `topic` | STRING |  | yes |",
		"`exactly.once.support`",
	} {
		if !strings.Contains(string(page), want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
	index, _ := os.ReadFile(filepath.Join(dir, "README.md"))
	if !strings.Contains(string(index), "| [test.Sink](test.Sink.md) | sink |") {
		t.Errorf("index:\n%s", index)
	}
	if p := Page(plugins[0]); !strings.Contains(p, "One of: `ok`, `fail`.") || !strings.Contains(p, `"topics": "<topic>"`) {
		t.Errorf("sink page:\n%s", p)
	}
}

// A hand-written guide after the marker survives regeneration.
func TestKeepsHandWrittenPart(t *testing.T) {
	connecttest.Register()
	p, _ := connect.Lookup(connecttest.Sink)
	dir := t.TempDir()
	guide := HandWritten + "\n\n## Guide\n\nHow to use it.\n"
	if err := os.WriteFile(filepath.Join(dir, connecttest.Sink+".md"), []byte("# stale page\n\n"+guide), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(dir, []*connect.Plugin{p}); err != nil {
		t.Fatal(err)
	}
	page, _ := os.ReadFile(filepath.Join(dir, connecttest.Sink+".md"))
	if want := Page(p) + "\n" + guide; string(page) != want {
		t.Errorf("page:\n%s\nwant:\n%s", page, want)
	}
}
