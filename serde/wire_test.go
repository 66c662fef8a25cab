package serde

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

func TestHeader(t *testing.T) {
	cases := []struct {
		id   int
		want []byte
	}{
		{1, []byte{0, 0, 0, 0, 1}},
		{0x01020304, []byte{0, 1, 2, 3, 4}},
		{0x7fffffff, []byte{0, 0x7f, 0xff, 0xff, 0xff}},
	}
	for _, c := range cases {
		b := AppendHeader(nil, c.id)
		if !bytes.Equal(b, c.want) {
			t.Errorf("AppendHeader(%d) = % x, want % x", c.id, b, c.want)
		}
		id, rest, err := SplitHeader(append(b, 'x'))
		if err != nil || id != c.id || string(rest) != "x" {
			t.Errorf("SplitHeader = %d %q %v", id, rest, err)
		}
	}
	for _, bad := range [][]byte{nil, {0, 0, 0, 1}, {1, 0, 0, 0, 1}, []byte(`{"a":1}`)} {
		if _, _, err := SplitHeader(bad); !errors.Is(err, ErrNoMagic) {
			t.Errorf("SplitHeader(% x) error = %v", bad, err)
		}
	}
}

func TestMessageIndexes(t *testing.T) {
	cases := []struct {
		path []int
		want []byte
	}{
		{[]int{0}, []byte{0x00}},
		{[]int{1}, []byte{0x02, 0x02}},
		{[]int{0, 2}, []byte{0x04, 0x00, 0x04}},
		{[]int{70}, []byte{0x02, 0x8c, 0x01}},
	}
	for _, c := range cases {
		b := AppendMessageIndexes(nil, c.path)
		if !bytes.Equal(b, c.want) {
			t.Errorf("AppendMessageIndexes(%v) = % x, want % x", c.path, b, c.want)
		}
		p, rest, err := ReadMessageIndexes(append(b, 0xee))
		if err != nil || !reflect.DeepEqual(p, c.path) || !bytes.Equal(rest, []byte{0xee}) {
			t.Errorf("ReadMessageIndexes(% x) = %v % x %v", b, p, rest, err)
		}
	}
	for _, bad := range [][]byte{nil, {0x80}, {0x06, 0x00}, {0x01}, {0x02, 0x01}} {
		if _, _, err := ReadMessageIndexes(bad); err == nil {
			t.Errorf("ReadMessageIndexes(% x) succeeded", bad)
		}
	}
}

func TestSubjectNameStrategies(t *testing.T) {
	cases := []struct {
		s    SubjectNameStrategy
		key  bool
		want string
	}{
		{TopicName, false, "orders-value"},
		{TopicName, true, "orders-key"},
		{RecordName, false, "com.acme.Order"},
		{TopicRecordName, true, "orders-com.acme.Order"},
	}
	for _, c := range cases {
		if got := c.s("orders", c.key, "com.acme.Order"); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}
