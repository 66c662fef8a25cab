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

// ValueDecoder reads values written by EncodeValue one after another from
// one buffer, as a stored row's columns are. The strings it returns share
// one copy of the buffer, made on the first: one allocation for all the
// strings of a row. The copy is a Go string, so the buffer may be reused
// once the values are read; a string kept alone keeps the copy alive.
type ValueDecoder struct{ d decoder }

// NewValueDecoder reads from b.
func NewValueDecoder(b []byte) *ValueDecoder {
	return &ValueDecoder{d: decoder{b: b, shared: types.TextCopyOf(b)}}
}

// Next reads a value of type t.
func (v *ValueDecoder) Next(t types.Type) (types.Value, error) {
	x, err := v.d.value(t)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", t, err)
	}
	return x, nil
}

// Rest is the bytes not read yet.
func (v *ValueDecoder) Rest() []byte { return v.d.b }
