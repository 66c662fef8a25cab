package recordjson

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/sql/types"
)

func TestMarshal(t *testing.T) {
	inner := &connect.Schema{Type: connect.Struct, Fields: []connect.Field{{Name: "z", Schema: &connect.Schema{Type: connect.Int32}}}}
	s := &connect.Schema{Type: connect.Struct, Fields: []connect.Field{
		{Name: "b", Schema: &connect.Schema{Type: connect.String}},
		{Name: "a", Schema: &connect.Schema{Type: connect.Int64, Name: connect.TimestampName}},
		{Name: "d", Schema: &connect.Schema{Type: connect.Int32, Name: connect.DateName}},
		{Name: "bytes", Schema: &connect.Schema{Type: connect.Bytes}},
		{Name: "in", Schema: inner},
		{Name: "dec", Schema: &connect.Schema{Type: connect.Bytes, Name: connect.DecimalName}},
		{Name: "nil", Schema: &connect.Schema{Type: connect.String, Optional: true}},
	}}
	ts := time.Date(2024, 1, 2, 3, 4, 5, 6e6, time.UTC)
	v := &connect.StructValue{Schema: s, Values: []any{"q\"\n\x01é", ts, time.Date(1970, 1, 11, 0, 0, 0, 0, time.UTC), []byte{1, 2},
		&connect.StructValue{Schema: inner, Values: []any{int32(-1)}}, types.MustDec("-12.50"), nil}}
	cases := []struct {
		v    any
		s    *connect.Schema
		want string
	}{
		{v, s, `{"b":"q\"\n\u0001é","a":1704164645006,"d":10,"bytes":"AQI=","in":{"z":-1},"dec":-12.50,"nil":null}`},
		{map[string]any{"y": []any{int8(1), 2.5, true}, "x": nil}, nil, `{"x":null,"y":[1,2.5,true]}`},
		{map[any]any{int32(2): "b", int32(1): "a"}, nil, `[[1,"a"],[2,"b"]]`},
		{math.Inf(1), nil, `"+Inf"`},
		{float32(0.1), nil, `0.1`},
		{"bad\xffutf8", nil, `"bad\ufffdutf8"`},
	}
	for _, c := range cases {
		got, err := Marshal(c.v, c.s)
		if err != nil {
			t.Fatalf("%v: %v", c.v, err)
		}
		if string(got) != c.want {
			t.Errorf("got  %s\nwant %s", got, c.want)
		}
		if !json.Valid(got) {
			t.Errorf("invalid JSON %s", got)
		}
	}
}

// Strings: runs of plain ASCII as they are, quotes, backslashes and
// control characters escaped, UTF-8 kept, invalid bytes as U+FFFD.
func TestAppendStringEscapes(t *testing.T) {
	for in, want := range map[string]string{
		"":                         `""`,
		"plain text":               `"plain text"`,
		"a\"b\\c\n\r\t\x01\x1f~":   `"a\"b\\c\n\r\t\u0001\u001f~"`,
		"é and \xff then \u2028 <": "\"é and \\ufffd then \u2028 <\"",
		"end\\":                    `"end\\"`,
	} {
		if got := string(appendString(nil, in)); got != want {
			t.Errorf("appendString(%q) = %s, want %s", in, got, want)
		}
	}
}
