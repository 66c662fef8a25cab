package funcs

import (
	"fmt"

	"github.com/sluicedata/sluice/sql/types"
)

// EncodeValue writes v, a value of type t, in the state codec's value
// format (no version byte), appended to b. Stateful operators use it for
// their store keys and values: the same value always gives the same bytes,
// so a grouping key encodes to one store key.
func EncodeValue(b []byte, t types.Type, v types.Value) ([]byte, error) {
	return appendValue(b, t, v)
}

// DecodeValue reads a value of type t written by EncodeValue and returns it
// with the bytes that follow it.
func DecodeValue(b []byte, t types.Type) (types.Value, []byte, error) {
	d := &decoder{b: b}
	v, err := d.value(t)
	if err != nil {
		return nil, nil, fmt.Errorf("decode %s: %w", t, err)
	}
	return v, d.b, nil
}
