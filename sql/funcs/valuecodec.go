package funcs

import "github.com/sluicedata/sluice/sql/types"

// AppendValue appends v, a value of type t, in the state codec's value
// format (see aggstate.go; no version byte). Stateful operators other than
// aggregations (joins) use it for the rows and keys they keep in stores: the
// encoding of a value of a fixed type is prefix-free, so an encoded key can
// start a composite store key.
func AppendValue(b []byte, t types.Type, v types.Value) ([]byte, error) {
	return appendValue(b, t, v)
}

// ReadValue reads one value of type t written by AppendValue and returns it
// with the bytes after it.
func ReadValue(b []byte, t types.Type) (types.Value, []byte, error) {
	d := &decoder{b: b}
	v, err := d.value(t)
	return v, d.b, err
}
