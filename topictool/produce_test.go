package topictool

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		line, sep         string
		wantKey, wantVal  string
		wantNilKey, isErr bool
	}{
		{line: "hello", wantVal: "hello", wantNilKey: true},
		{line: "", wantVal: "", wantNilKey: true},
		{line: "k1:v1", sep: ":", wantKey: "k1", wantVal: "v1"},
		{line: "k1:v:1", sep: ":", wantKey: "k1", wantVal: "v:1"},
		{line: ":v", sep: ":", wantKey: "", wantVal: "v"},
		{line: "k:", sep: ":", wantKey: "k", wantVal: ""},
		{line: "k\tv x", sep: "\t", wantKey: "k", wantVal: "v x"},
		{line: "k::v", sep: "::", wantKey: "k", wantVal: "v"},
		{line: "no separator", sep: ":", isErr: true},
	}
	for _, tt := range tests {
		k, v, err := ParseLine([]byte(tt.line), tt.sep)
		if tt.isErr {
			if err == nil || !strings.Contains(err.Error(), "not found") {
				t.Errorf("ParseLine(%q, %q) error = %v, want separator not found", tt.line, tt.sep, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseLine(%q, %q): %v", tt.line, tt.sep, err)
			continue
		}
		if (k == nil) != tt.wantNilKey || string(k) != tt.wantKey || string(v) != tt.wantVal {
			t.Errorf("ParseLine(%q, %q) = key %q (nil %v), value %q; want key %q (nil %v), value %q",
				tt.line, tt.sep, k, k == nil, v, tt.wantKey, tt.wantNilKey, tt.wantVal)
		}
	}
}

func TestReadLines(t *testing.T) {
	long := strings.Repeat("x", 10000) // longer than bufio's default 4096 buffer
	tests := []struct {
		name, in string
		want     []string
	}{
		{"empty input", "", nil},
		{"one line", "a\n", []string{"a"}},
		{"no final newline", "a\nb", []string{"a", "b"}},
		{"crlf", "a\r\nb\r\n", []string{"a", "b"}},
		{"empty lines kept", "a\n\nb\n", []string{"a", "", "b"}},
		{"only newline", "\n", []string{""}},
		{"long line", long + "\nb\n", []string{long, "b"}},
	}
	for _, tt := range tests {
		var got []string
		err := ReadLines(strings.NewReader(tt.in), func(n int, line []byte) error {
			if n != len(got)+1 {
				t.Errorf("%s: line number %d, want %d", tt.name, n, len(got)+1)
			}
			got = append(got, string(line))
			return nil
		})
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
		if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tt.want) {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestReadLinesStopsOnError(t *testing.T) {
	calls := 0
	err := ReadLines(strings.NewReader("a\nb\nc\n"), func(n int, _ []byte) error {
		calls++
		if n == 2 {
			return fmt.Errorf("line %d bad", n)
		}
		return nil
	})
	if err == nil || err.Error() != "line 2 bad" || calls != 2 {
		t.Errorf("got err %v after %d calls, want 'line 2 bad' after 2", err, calls)
	}
}
