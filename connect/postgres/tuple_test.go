package postgres

import (
	"encoding/binary"
	"reflect"
	"strings"
	"testing"
)

// tupleBytes writes a pgoutput tuple: "n" null, "u" unchanged TOAST,
// anything else a text value.
func tupleBytes(cols ...string) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(len(cols)))
	for _, c := range cols {
		switch c {
		case "n", "u":
			b = append(b, c[0])
		default:
			b = append(b, 't')
			b = binary.BigEndian.AppendUint32(b, uint32(len(c)))
			b = append(b, c...)
		}
	}
	return b
}

func rowMsg(kind byte, rel uint32, parts ...[]byte) []byte {
	b := binary.BigEndian.AppendUint32([]byte{kind}, rel)
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func TestParseRowChange(t *testing.T) {
	text := func(s string) tupleCol { return tupleCol{data: []byte(s)} }
	null, toast := tupleCol{null: true}, tupleCol{unchanged: true}
	for _, tc := range []struct {
		name string
		msg  []byte
		want rowChange
		err  string
	}{
		{name: "insert", msg: rowMsg('I', 7, []byte{'N'}, tupleBytes("1", "n", "")),
			want: rowChange{relID: 7, op: "c", new_: []tupleCol{text("1"), null, text("")}}},
		{name: "update with old key", msg: rowMsg('U', 7, []byte{'K'}, tupleBytes("1", "n"), []byte{'N'}, tupleBytes("2", "u")),
			want: rowChange{relID: 7, op: "u", oldKind: 'K', old: []tupleCol{text("1"), null}, new_: []tupleCol{text("2"), toast}}},
		{name: "update", msg: rowMsg('U', 9, []byte{'N'}, tupleBytes("x")),
			want: rowChange{relID: 9, op: "u", new_: []tupleCol{text("x")}}},
		{name: "delete full row", msg: rowMsg('D', 7, []byte{'O'}, tupleBytes("1", "a")),
			want: rowChange{relID: 7, op: "d", oldKind: 'O', old: []tupleCol{text("1"), text("a")}}},
		{name: "truncated value", msg: rowMsg('I', 7, []byte{'N'}, tupleBytes("12345")[:8]), err: "more bytes expected"},
		{name: "missing columns", msg: rowMsg('I', 7, []byte{'N'}, tupleBytes("1", "2")[:4]), err: "more bytes expected"},
		{name: "unknown column kind", msg: rowMsg('I', 7, []byte{'N', 0, 1, 'x'}), err: "unknown tuple data kind 'x'"},
		{name: "insert without new tuple", msg: rowMsg('I', 7, []byte{'K'}, tupleBytes("1")), err: "want 'N'"},
		{name: "delete without old tuple", msg: rowMsg('D', 7, []byte{'N'}, tupleBytes("1")), err: "want 'K' or 'O'"},
		{name: "short", msg: []byte{'D', 0, 0}, err: "too short"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseRowChange(tc.msg)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// The receive buffer is reused by the next read: decoded columns must not
// point into it.
func TestParseRowChangeCopies(t *testing.T) {
	msg := rowMsg('I', 1, []byte{'N'}, tupleBytes("abc"))
	rc, err := parseRowChange(msg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range msg {
		msg[i] = 0
	}
	if string(rc.new_[0].data) != "abc" {
		t.Fatalf("column data changed with the message buffer: %q", rc.new_[0].data)
	}
}
