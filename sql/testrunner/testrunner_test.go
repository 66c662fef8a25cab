package testrunner

import (
	"strings"
	"testing"

	"github.com/sluicedata/sluice/sql/types"
)

func TestParseRecordsLenient(t *testing.T) {
	data := []byte(`// the orders
	{"inputs": [
	  /* first */ {"topic": "orders", "key": 1, "value": {"ID": 1, "PRICE": 1.10, "URL": "http://x//y"}, "timestamp": 5, "extra": true},
	  {"topic": "orders", "value": null, "headers": [{"KEY": "h", "VALUE": "AQI="}, {"KEY": "n", "VALUE": null}],
	   "window": {"start": 0, "end": 10, "type": "time"}}
	]}`)
	recs, err := ParseRecords(data, "inputs", "Inputs")
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatalf("got %d records", len(recs))
	}
	r := recs[0]
	if r.Topic != "orders" || *r.Timestamp != 5 || r.Key.(interface{ String() string }).String() != "1" {
		t.Fatalf("record 0: %+v", r)
	}
	price := r.Value.(map[string]any)["PRICE"]
	if s := price.(interface{ String() string }).String(); s != "1.10" {
		t.Fatalf("decimal lost its digits: %s", s)
	}
	if u := r.Value.(map[string]any)["URL"]; u != "http://x//y" {
		t.Fatalf("comment stripping ate a string: %v", u)
	}
	r = recs[1]
	if r.Key != nil || r.Value != nil || r.Timestamp != nil {
		t.Fatalf("record 1: %+v", r)
	}
	if len(r.Headers) != 2 || string(r.Headers[0].Value) != "\x01\x02" || r.Headers[1].Value != nil {
		t.Fatalf("headers: %+v", r.Headers)
	}
	if *r.Window != (Window{0, 10, "TIME"}) {
		t.Fatalf("window: %+v", r.Window)
	}
}

func TestParseRecordsErrors(t *testing.T) {
	for _, tc := range []struct{ in, field, want string }{
		{`{"inputs": []}`, "inputs", "Inputs cannot be empty."},
		{`{"other": []}`, "inputs", "No 'inputs' field in the input file."},
		{`{"outputs": []}`, "outputs", "Outputs cannot be empty."},
		{`{"inputs": [{"value": 1}]}`, "inputs", `missing "topic"`},
		{`{"inputs": [{"topic": "t"}]}`, "inputs", `missing "value"`},
		{`{"inputs": [{"topic": "t", "value": 1, "window": {"start": 1, "end": 2, "type": "weird"}}]}`, "inputs", "not time or session"},
		{`{"inputs": [{"topic": "t", "value": 1, "headers": [{"KEY": "k", "VALUE": "!!"}]}]}`, "inputs", "not base64"},
		{`{"inputs": /* open`, "inputs", "unterminated"},
	} {
		title := strings.ToUpper(tc.field[:1]) + tc.field[1:]
		_, err := ParseRecords([]byte(tc.in), tc.field, title)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.in, err, tc.want)
		}
	}
}

func mustOutputs(t *testing.T, s string) []Record {
	t.Helper()
	recs, err := ParseRecords([]byte(s), "outputs", "Outputs")
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestMatches(t *testing.T) {
	dec := types.MustDec
	for _, tc := range []struct {
		expected string
		actual   types.Value
		want     bool
	}{
		{`1`, int32(1), true},
		{`1.9`, int32(1), true}, // Java intValue truncates
		{`2`, int32(1), false},
		{`10000000000`, int64(10000000000), true},
		{`1.0000001`, 1.0, true},
		{`1.01`, 1.0, false},
		{`1.10`, dec("1.10"), true},
		{`1.1`, dec("1.10"), false}, // scale must match
		{`"1.10"`, dec("1.10"), true},
		{`"1.1"`, dec("1.10"), false},
		{`3`, dec("3"), true},
		{`3`, dec("3.0"), false},
		{`"AQI="`, []byte{1, 2}, true},
		{`"x"`, "x", true},
		{`"x"`, "y", false},
		{`true`, true, true},
		{`null`, nil, true},
		{`null`, int32(0), false},
		{`[1,2]`, []types.Value{int32(1), int32(2)}, true},
		{`[1,2]`, []types.Value{int32(1)}, false},
		{`{"a": 1}`, types.StructVal{{Name: "A", Value: int32(1)}}, true},
		{`{"A": 1, "B": null}`, types.StructVal{{Name: "A", Value: int32(1)}}, false},
		{`{"k": "v"}`, map[string]types.Value{"k": "v"}, true},
		{`{"A": {"B": [1.5]}}`, types.StructVal{{Name: "A", Value: types.StructVal{{Name: "B", Value: []types.Value{1.5}}}}}, true},
		{`5`, types.TimestampVal(5), true},
	} {
		recs := mustOutputs(t, `{"outputs":[{"topic":"t","value":`+tc.expected+`}]}`)
		if got := Matches(recs[0].Value, tc.actual); got != tc.want {
			t.Errorf("Matches(%s, %#v) = %v, want %v", tc.expected, tc.actual, got, tc.want)
		}
	}
}

func TestCompare(t *testing.T) {
	expected := mustOutputs(t, `{"outputs":[
		{"topic":"A","key":1,"value":{"X":1},"timestamp":10},
		{"topic":"A","key":2,"value":{"X":2}},
		{"topic":"B","key":"k","value":"v","window":{"start":0,"end":5,"type":"TIME"},"headers":[{"KEY":"h","VALUE":"AQ=="}]}
	]}`)
	good := []Actual{
		{Topic: "B", Key: "k", Value: "v", Window: &Window{0, 5, "TIME"}, Headers: []Header{{"h", []byte{1}}}},
		{Topic: "A", Key: int32(1), Value: types.StructVal{{Name: "X", Value: int32(1)}}, Timestamp: 10},
		{Topic: "A", Key: int32(2), Value: types.StructVal{{Name: "X", Value: int32(2)}}, Timestamp: 99},
		{Topic: "IGNORED", Value: "whatever"},
	}
	if err := Compare(expected, good, true); err != nil {
		t.Fatalf("good: %v", err)
	}
	mutate := func(f func(a []Actual) []Actual) []Actual {
		c := append([]Actual(nil), good...)
		return f(c)
	}
	for _, tc := range []struct {
		name   string
		actual []Actual
		want   string
	}{
		{"missing record", mutate(func(a []Actual) []Actual { return a[:2] }), "Topic A. Expected 2 records but it was 1"},
		{"wrong order", mutate(func(a []Actual) []Actual { a[1], a[2] = a[2], a[1]; return a }), "Topic 'A', message 0: Expected"},
		{"wrong timestamp", mutate(func(a []Actual) []Actual { a[1].Timestamp = 11; return a }), "Topic 'A', message 0"},
		{"no window", mutate(func(a []Actual) []Actual { a[0].Window = nil; return a }), "Topic 'B', message 0"},
		{"header bytes", mutate(func(a []Actual) []Actual { a[0].Headers = []Header{{"h", []byte{2}}}; return a }), "Topic 'B', message 0"},
		{"extra header", mutate(func(a []Actual) []Actual {
			a[1].Headers = []Header{{"x", nil}}
			return a
		}), "Topic 'A', message 0"},
	} {
		err := Compare(expected, tc.actual, true)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
	}
	// Without an input file, an expected timestamp of 0 means any.
	zero := mustOutputs(t, `{"outputs":[{"topic":"A","value":1,"timestamp":0}]}`)
	if err := Compare(zero, []Actual{{Topic: "A", Value: int32(1), Timestamp: 1234}}, false); err != nil {
		t.Fatal(err)
	}
	if err := Compare(zero, []Actual{{Topic: "A", Value: int32(1), Timestamp: 1234}}, true); err == nil {
		t.Fatal("timestamp 0 with an input file must be checked")
	}
}
