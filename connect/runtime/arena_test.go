package runtime

import (
	"bytes"
	"strings"
	"testing"

	"github.com/sluicedata/sluice/connect"
	connectconv "github.com/sluicedata/sluice/connect/converters"
)

func TestArenaWritesWhatFromConnectWrites(t *testing.T) {
	jc := &connectconv.JSON{}
	if err := jc.Configure(connect.Config{"schemas.enable": "true"}, false); err != nil {
		t.Fatal(err)
	}
	schema := &connect.Schema{Type: connect.Struct, Name: "row", Fields: []connect.Field{
		{Name: "id", Schema: &connect.Schema{Type: connect.Int64}},
		{Name: "note", Schema: &connect.Schema{Type: connect.String, Optional: true}},
	}}
	var ar arena
	var got, want [][]byte
	// Sizes from small to larger than a chunk, so that values share chunks,
	// start new ones and get buffers of their own.
	for i, n := range []int{0, 10, 3000, 3000, 200_000, 100, arenaChunkSize + 10, 5, 70_000, 70_000, 70_000, 70_000} {
		v := connect.NewStruct(schema)
		v.Values[0], v.Values[1] = int64(i), strings.Repeat("x", n)
		w, err := jc.FromConnect("t", schema, v)
		if err != nil {
			t.Fatal(err)
		}
		b, err := ar.write(jc, "t", schema, v)
		if err != nil {
			t.Fatal(err)
		}
		want, got = append(want, w), append(got, b)
	}
	// Schemaless values (a map) are appended in place too.
	for i := range 3 {
		v := map[string]any{"id": int64(i), "note": strings.Repeat("y", 100*i)}
		w, err := jc.FromConnect("t", nil, v)
		if err != nil {
			t.Fatal(err)
		}
		b, err := ar.write(jc, "t", nil, v)
		if err != nil {
			t.Fatal(err)
		}
		want, got = append(want, w), append(got, b)
	}
	null, err := ar.write(jc, "t", nil, nil)
	if err != nil || null != nil {
		t.Fatalf("tombstone: %q, %v; want nil bytes", null, err)
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("value %d differs from FromConnect's:\n%s\n%s", i, got[i], want[i])
		}
	}
	if len(ar.chunks) < 2 {
		t.Fatalf("%d chunks used; want values spread over several", len(ar.chunks))
	}
	ar.release()
	if ar.chunks != nil || ar.cur != nil {
		t.Fatal("release kept chunks")
	}
}

// copy keeps bytes that survive later copies and writes, sharing chunks
// for small ones and giving large ones a buffer of their own.
func TestArenaCopy(t *testing.T) {
	var ar arena
	var got, want [][]byte
	for i, n := range []int{0, 5, 160, 3000, 200_000, 70_000, 160, arenaChunkSize + 1, 10} {
		b := bytes.Repeat([]byte{byte('a' + i)}, n)
		c := ar.copy(b)
		if len(c) > 0 && &c[0] == &b[0] {
			t.Fatalf("copy %d shares the caller's bytes", i)
		}
		if n > 0 {
			b[0] = 'Z' // the caller reuses its buffer
		}
		got, want = append(got, c), append(want, bytes.Repeat([]byte{byte('a' + i)}, n))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("copy %d changed: %d bytes, want %d", i, len(got[i]), len(want[i]))
		}
	}
	ar.release()
}
