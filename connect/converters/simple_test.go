package converters

import (
	"bytes"
	"testing"
	"time"
	"unsafe"

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

// ToConnectShared returns what ToConnect returns, error included, with
// the string over the bytes themselves.
func TestStringToConnectShared(t *testing.T) {
	for _, data := range [][]byte{nil, {}, []byte("plain"), []byte("ünïcode"), []byte("\xff not UTF-8")} {
		ws, wv, werr := String{}.ToConnect("t", data)
		gs, gv, gerr := String{}.ToConnectShared("t", data)
		if ws != gs || wv != gv || (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) {
			t.Errorf("%q: ToConnectShared = %v, %#v, %v; ToConnect = %v, %#v, %v", data, gs, gv, gerr, ws, wv, werr)
		}
		if s, ok := gv.(string); ok && len(s) > 0 && unsafe.StringData(s) != unsafe.SliceData(data) {
			t.Errorf("%q: the value is a copy", data)
		}
	}
}
