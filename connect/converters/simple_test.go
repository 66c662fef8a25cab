package converters

import (
	"bytes"
	"testing"
	"time"

	"github.com/sluicedata/sluice/connect"
)

// The String converter's AppendFromConnect appends exactly what
// FromConnect returns, and says null where FromConnect returns nil.
func TestStringAppendFromConnect(t *testing.T) {
	for _, v := range []any{nil, "", "key-1", "é\x00", []byte("raw"), int32(-7), int64(1 << 40), true, 2.5,
		time.UnixMilli(1700000000000).UTC(), map[string]any{"a": int64(1)}} {
		want, err := String{}.FromConnect("t", nil, v)
		if err != nil {
			t.Fatalf("%v: FromConnect: %v", v, err)
		}
		prefix := []byte("prefix")
		got, null, err := String{}.AppendFromConnect(prefix, "t", nil, v)
		if err != nil {
			t.Fatalf("%v: AppendFromConnect: %v", v, err)
		}
		if null != (want == nil) {
			t.Errorf("%v: null %v, FromConnect gave %q", v, null, want)
		}
		if !bytes.Equal(got, append([]byte("prefix"), want...)) {
			t.Errorf("%v: appended %q, want prefix+%q", v, got, want)
		}
	}
	var _ connect.AppendingConverter = String{}
}
