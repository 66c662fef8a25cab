package converters

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// parseJSON agrees with encoding/json (UseNumber) on valid input and
// rejects what it rejects.
func TestParseJSONMatchesEncodingJSON(t *testing.T) {
	inputs := []string{
		`null`, `true`, ` false `, `0`, `-0`, `-12.5e+3`, `1E2`, `123456789012345678901234567890`,
		`"plain"`, `"esc \" \\ \/ \b \f \n \r \t"`, `"\u00e9\u4e2d"`, `"\ud83d\ude00"`, `"\ud83d"`, `"\ud83d\u0041"`,
		`"héllo"`, `[]`, `{}`, `[1,[2,[3]],{"a":[]}]`, `{"a":1,"b":{"c":"d"},"a":2}`, "\t{ \"x\" : [ 1 , 2 ] }\n",
		`{"schema":{"type":"int32"},"payload":5}`,
		// invalid
		``, `{`, `[1,]`, `{"a":1,}`, `01`, `1.`, `.5`, `-`, `1e`, `tru`, `nul`, `"abc`, `"\x"`, `"\u12"`, "\"a\tb\"",
		`{"a" 1}`, `{1:2}`, `[1 2]`, `1 2`, `"a"x`, `+1`, `NaN`,
	}
	for _, in := range inputs {
		d := json.NewDecoder(bytes.NewReader([]byte(in)))
		d.UseNumber()
		var want any
		werr := d.Decode(&want)
		if werr == nil && d.More() {
			werr = errTruncated
		}
		if werr == nil {
			// encoding/json accepts trailing whitespace only.
			var tail any
			if d.Decode(&tail) == nil {
				werr = errTruncated
			}
		}
		got, gerr := parseJSON([]byte(in), false)
		if (werr == nil) != (gerr == nil) {
			t.Errorf("%q: encoding/json error %v, parseJSON error %v", in, werr, gerr)
			continue
		}
		if werr == nil && !reflect.DeepEqual(got, want) {
			t.Errorf("%q: got %#v, want %#v", in, got, want)
		}
	}
}

func TestParseJSONSchemalessNumbers(t *testing.T) {
	got, err := parseJSON([]byte(`[1,-2,1.5,1e2,9223372036854775807,9223372036854775808]`), true)
	if err != nil {
		t.Fatal(err)
	}
	want := []any{int64(1), int64(-2), 1.5, 100.0, int64(9223372036854775807), 9223372036854775808.0}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v", got)
	}
}
