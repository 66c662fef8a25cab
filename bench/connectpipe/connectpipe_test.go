package connectpipe

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/sluicedata/sluice/connect/converters"
)

// The generated orders are one JSON object per line, 20 fields, ids in
// sequence from first.
func TestWriteOrders(t *testing.T) {
	path := filepath.Join(t.TempDir(), "o.jsonl")
	if err := writeOrders(path, 3, 10); err != nil {
		t.Fatal(err)
	}
	n, size, err := countLines(path)
	if err != nil || n != 3 {
		t.Fatalf("countLines = %d, %v", n, err)
	}
	data, _ := os.ReadFile(path)
	if int64(len(data)) != size {
		t.Errorf("size %d, file has %d bytes", size, len(data))
	}
	for i, line := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
		v, err := converters.ParseSchemaless(line)
		if err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		m := v.(map[string]any)
		if len(m) != 20 || m["id"] != int64(10+i) {
			t.Errorf("line %d: %d fields, id %v", i, len(m), m["id"])
		}
	}
}
