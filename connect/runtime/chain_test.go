package runtime

import (
	"testing"

	"github.com/sluicedata/sluice/connect"
)

// Without a header.converter, header values are written as Kafka's
// SimpleHeaderConverter writes them; structs (Debezium's
// __debezium.newkey/oldkey on a primary-key change) included.
func TestHeaderToBytesDefault(t *testing.T) {
	key := &connect.Schema{Type: connect.Struct, Name: "srv.public.t.Key", Fields: []connect.Field{
		{Name: "id", Schema: &connect.Schema{Type: connect.Int32}},
		{Name: "sku", Schema: &connect.Schema{Type: connect.String}},
	}}
	cs := &converters{}
	for _, tc := range []struct {
		h    connect.Header
		want string
		null bool
	}{
		{h: connect.Header{Key: "nil"}, null: true},
		{h: connect.Header{Key: "s", Value: "abc"}, want: "abc"},
		{h: connect.Header{Key: "b", Value: []byte{1, 2}}, want: "\x01\x02"},
		{h: connect.Header{Key: "n", Value: int64(42)}, want: "42"},
		{h: connect.Header{Key: "__debezium.newkey", Schema: key, Value: &connect.StructValue{Schema: key, Values: []any{int32(7), `a"b`}}},
			want: `{"id":7,"sku":"a\"b"}`},
	} {
		got, err := cs.headerToBytes("topic", tc.h)
		if err != nil {
			t.Fatalf("%s: %v", tc.h.Key, err)
		}
		if tc.null != (got == nil) || string(got) != tc.want {
			t.Errorf("%s: got %q (nil %v), want %q", tc.h.Key, got, got == nil, tc.want)
		}
	}
}
