package topictool

import (
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestFormat(t *testing.T) {
	rec := &kgo.Record{
		Key:       []byte("user-1"),
		Value:     []byte(`{"n":1}`),
		Partition: 2,
		Offset:    42,
		Timestamp: time.UnixMilli(1700000000123),
	}
	noKey := &kgo.Record{Value: []byte("v")}
	tests := []struct {
		format string
		rec    *kgo.Record
		want   string
	}{
		{"%v", rec, `{"n":1}`},
		{"%k %v %p %o %t", rec, `user-1 {"n":1} 2 42 1700000000123`},
		{`%k\t%v`, rec, "user-1\t{\"n\":1}"},
		{`p%p@%o\n`, rec, "p2@42\n"},
		{"100%% %v", rec, `100% {"n":1}`},
		{`a\\b`, rec, `a\b`},
		{"plain", rec, "plain"},
		{"", rec, ""},
		{"[%k]=%v", noKey, "[]=v"},
	}
	for _, tt := range tests {
		f, err := ParseFormat(tt.format)
		if err != nil {
			t.Errorf("ParseFormat(%q): %v", tt.format, err)
			continue
		}
		if got := string(f.Append(nil, tt.rec)); got != tt.want {
			t.Errorf("format %q: got %q, want %q", tt.format, got, tt.want)
		}
	}
}

func TestParseFormatErrors(t *testing.T) {
	tests := []struct{ format, wantErr string }{
		{"%x", "unknown %x"},
		{"%v %", `"%" at the end`},
		{`%v\`, `"\\" at the end`},
		{`\r`, `unknown \r`},
	}
	for _, tt := range tests {
		_, err := ParseFormat(tt.format)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("ParseFormat(%q) error = %v, want it to contain %q", tt.format, err, tt.wantErr)
		}
	}
}
