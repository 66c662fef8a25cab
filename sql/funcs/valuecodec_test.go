package funcs

import (
	"reflect"
	"testing"

	"github.com/sluicedata/sluice/sql/types"
)

// TestValueDecoderSharesOneCopy: a row's values read back as written,
// strings (nested ones too) whole, also after the buffer is overwritten,
// and the bytes after the row are left.
func TestValueDecoderSharesOneCopy(t *testing.T) {
	cols := []types.Type{types.StringType, types.BigintType, types.StringType, types.ArrayOf(types.StringType),
		types.StringType, types.BytesType, types.MapOf(types.StringType)}
	row := []types.Value{"alpha", int64(-3), "", []types.Value{"x", nil, "yz"}, nil, []byte{1, 2},
		map[string]types.Value{"k": "v"}}
	var b []byte
	for i, c := range cols {
		var err error
		if b, err = EncodeValue(b, c, row[i]); err != nil {
			t.Fatal(err)
		}
	}
	b = append(b, 0xAB)
	d := NewValueDecoder(b)
	got := make([]types.Value, len(cols))
	for i, c := range cols {
		v, err := d.Next(c)
		if err != nil {
			t.Fatal(err)
		}
		got[i] = v
	}
	if rest := d.Rest(); len(rest) != 1 || rest[0] != 0xAB {
		t.Fatalf("rest: %v", rest)
	}
	for i := range b {
		b[i] = 0 // the buffer is reused
	}
	if !reflect.DeepEqual(got, row) {
		t.Fatalf("got %#v, want %#v", got, row)
	}
	if _, err := NewValueDecoder([]byte{1, 10, 'a'}).Next(types.StringType); err == nil {
		t.Fatal("a truncated string was read")
	}
}
