package converters

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/sluicedata/sluice/connect"
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

// orderLine is a 20-field order as the connect bench's filter+map
// pipeline reads it (its keys sorted, as its file source writes them).
const orderLine = `{"amount":123.95,"channel":"web","city":"London","country":"GB","coupon":null,"created":1795680000000,` +
	`"currency":"GBP","customer":"Customer 123","email":"c123@example.com","id":123,"items":7,"note":"leave at the door",` +
	`"paid":true,"priority":1,"status":"SHIPPED","tax":21.66,"updated":1795680100000,"version":4,"warehouse":7,"weight":2.5}`

func BenchmarkJSONToConnectSchemaless(b *testing.B) {
	c := configured(b, &JSON{}, connect.Config{"schemas.enable": "false"}).(*JSON)
	data := []byte(orderLine)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, _, err := c.ToConnect("orders", data); err != nil {
			b.Fatal(err)
		}
	}
}
