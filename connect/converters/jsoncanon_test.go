package converters

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/sluicedata/sluice/connect"
)

// printed is what the JSON converter (schemas.enable=false) writes for the
// parsed text: the canonical form must be exactly this.
func printed(t *testing.T, text string) (string, error) {
	t.Helper()
	v, err := ParseSchemaless([]byte(text))
	if err != nil {
		return "", err
	}
	c := &JSON{}
	if err := c.Configure(connect.Config{"schemas.enable": "false"}, false); err != nil {
		t.Fatal(err)
	}
	b, err := c.FromConnect("t", nil, v)
	return string(b), err
}

func TestCanonicalMatchesParseAndPrint(t *testing.T) {
	objects := []string{
		`{}`,
		` { } `,
		`{"b":1,"a":2}`,
		`{ "id" : 7 , "name" : "x y" , "tags" : [ 1 , "two" , null , true , false , [] , {} ] }`,
		`{"n":-0,"f":1.50,"e":1e3,"E":-2.5E-7,"big":12345678901234567890,"i18":999999999999999999,"neg":-123456789012345678901}`,
		`{"f":0.1,"g":100.0,"h":1e21,"k":1e-5,"z":0.0,"m":-0.0}`,
		`{"s":"tab\tquote\"back\\slash\/ \u00e9 \ud83d\ude00 \u0001"}`,
		`{"s":"é 漢字 😀","k":"plain"}`,
		"{\"bad\":\"\xff\xfe\"}",
		`{"lone":"\ud800 x"}`,
		`{"nested":{"z":{"y":[{"b":1,"a":2}],"x":null},"a":[]},"a":{"c":3,"b":2}}`,
		`{"arr":[[[[1]]]],"o":{"o":{"o":{"o":{}}}}}`,
		"{\n\t\"a\": 1,\r\n\t\"b\": [1, 2]\n}\n",
	}
	var c Canonicalizer
	for _, text := range objects {
		want, err := printed(t, text)
		if err != nil {
			t.Fatalf("%s: parse and print: %v", text, err)
		}
		for range 2 { // the second time with the cached key order
			got, ok := c.Object([]byte(text), nil)
			if !ok {
				t.Errorf("%s: gave up", text)
				continue
			}
			if string(got) != want {
				t.Errorf("%s:\ncanonical %s\nprinted   %s", text, got, want)
			}
		}
	}
}

// Texts the canonicalizer leaves to the parser: not objects, invalid
// JSON, repeated or escaped keys.
func TestCanonicalGivesUp(t *testing.T) {
	var c Canonicalizer
	for _, text := range []string{
		``, `   `, `[1]`, `"s"`, `1`, `null`,
		`{"a":1`, `{"a":1}x`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `{"a":01}`, `{"a":tru}`, `{"a":[1,]}`, `{"a":"x`,
		`{"a":1,"a":2}`, `{"o":{"k":1,"k":2}}`,
		`{"\u0061":1}`, `{"a\"b":1}`,
		"{\"a\":\"ctl\x01\"}",
		strings.Repeat(`{"a":`, 100) + `1` + strings.Repeat(`}`, 100),
	} {
		if got, ok := c.Object([]byte(text), nil); ok {
			t.Errorf("%q: got %s, want a refusal", text, got)
		}
	}
}

// Random documents in random layouts: canonical text equals the printed
// parse whenever the canonicalizer accepts, and it accepts every document
// without repeated or escaped keys.
func TestCanonicalRandomDocuments(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var c Canonicalizer
	for i := range 3000 {
		v := randomValue(rng, 0, true)
		text := layout(rng, v)
		want, err := printed(t, text)
		if err != nil {
			t.Fatalf("doc %d %s: %v", i, text, err)
		}
		got, ok := c.Object([]byte(text), nil)
		if !ok {
			t.Fatalf("doc %d: gave up on %s", i, text)
		}
		if string(got) != want {
			t.Fatalf("doc %d %s:\ncanonical %s\nprinted   %s", i, text, got, want)
		}
	}
}

// Object appends to what out holds.
func TestCanonicalAppends(t *testing.T) {
	var c Canonicalizer
	got, ok := c.Object([]byte(`{"b":2,"a":1}`), []byte("x"))
	if !ok || string(got) != `x{"a":1,"b":2}` {
		t.Errorf("got %s, %v", got, ok)
	}
}

func randomValue(rng *rand.Rand, depth int, object bool) any {
	kind := rng.IntN(9)
	if object || depth < 3 && kind < 2 {
		m := map[string]any{}
		for range rng.IntN(6) {
			m[randomKey(rng)] = randomValue(rng, depth+1, false)
		}
		return m
	}
	switch kind {
	case 2:
		if depth >= 3 {
			return nil
		}
		var a []any
		for range rng.IntN(4) {
			a = append(a, randomValue(rng, depth+1, false))
		}
		return a
	case 3:
		return json.Number(fmt.Sprint(rng.Int64N(1<<62) - 1<<61))
	case 4:
		return json.Number(fmt.Sprintf("%g", rng.NormFloat64()*float64(rng.IntN(1e6))))
	case 5:
		return json.Number(fmt.Sprintf("%.3f", rng.Float64()))
	case 6:
		return rng.IntN(2) == 0
	case 7:
		return nil
	}
	runes := []rune("ab Z09\"\\/\n\t\u0001é漢😀")
	var sb strings.Builder
	for range rng.IntN(8) {
		sb.WriteRune(runes[rng.IntN(len(runes))])
	}
	return sb.String()
}

func randomKey(rng *rand.Rand) string {
	keys := []string{"id", "name", "a", "b", "Z", "é", "漢", "a_b", "key1", "key10", "key2", ""}
	return keys[rng.IntN(len(keys))]
}

// layout writes v as JSON in its own key order with random whitespace.
func layout(rng *rand.Rand, v any) string {
	var b bytes.Buffer
	ws := func() {
		for range rng.IntN(3) {
			b.WriteByte(" \t\n\r"[rng.IntN(4)])
		}
	}
	var write func(v any)
	write = func(v any) {
		ws()
		switch x := v.(type) {
		case map[string]any:
			b.WriteByte('{')
			first := true
			for k, e := range x { // map order: random
				if !first {
					b.WriteByte(',')
				}
				first = false
				ws()
				kb, _ := json.Marshal(k)
				b.Write(kb)
				ws()
				b.WriteByte(':')
				write(e)
			}
			ws()
			b.WriteByte('}')
		case []any:
			b.WriteByte('[')
			for i, e := range x {
				if i > 0 {
					b.WriteByte(',')
				}
				write(e)
			}
			ws()
			b.WriteByte(']')
		default:
			eb, _ := json.Marshal(x)
			b.Write(eb)
		}
		ws()
	}
	write(v)
	return b.String()
}

// Number tokens of every shape near the quick path's limits print as the
// parser and printer would print them.
func TestCanonicalNumbers(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	tokens := []string{"0", "-0", "7", "-7", "999999999999999999", "1000000000000000000", "-999999999999999999",
		"0.0", "-0.0", "0.5", "0.05", "0.005", "0.0005", "0.0010", "1.0", "1.50", "100.000", "9999999.5", "10000000.5",
		"1234567.12345678", "1234567.123456789", "0.123456789012345", "0.1234567890123456", "0.00123456789012345",
		"1e3", "1.5E-3", "2.50e+2", "123456789.0"}
	for range 20000 {
		var sb strings.Builder
		if rng.IntN(2) == 0 {
			sb.WriteByte('-')
		}
		if rng.IntN(3) == 0 {
			sb.WriteByte('0')
		} else {
			sb.WriteString(fmt.Sprint(rng.Int64N(1) + 1 + rng.Int64N(int64(1)<<(rng.IntN(40)+1))))
		}
		if rng.IntN(4) > 0 {
			sb.WriteByte('.')
			for range rng.IntN(18) + 1 {
				sb.WriteByte('0' + byte(rng.IntN(10)))
			}
		}
		tokens = append(tokens, sb.String())
	}
	var c Canonicalizer
	for _, tok := range tokens {
		text := `{"x":` + tok + `}`
		want, err := printed(t, text)
		if err != nil {
			t.Fatalf("%s: %v", tok, err)
		}
		got, ok := c.Object([]byte(text), nil)
		if !ok || string(got) != want {
			t.Fatalf("%s: canonical %s (%v), printed %s", tok, got, ok, want)
		}
	}
}

// Errors name the path of the value that failed, nested scalars included.
func TestFromConnectErrorPaths(t *testing.T) {
	i32 := &connect.Schema{Type: connect.Int32}
	inner := &connect.Schema{Type: connect.Struct, Name: "In", Fields: []connect.Field{{Name: "b", Schema: i32},
		{Name: "list", Schema: &connect.Schema{Type: connect.Array, Value: i32}}}}
	outer := &connect.Schema{Type: connect.Struct, Name: "Out", Fields: []connect.Field{{Name: "a", Schema: inner}}}
	c := NewJSON()
	for _, tc := range []struct {
		b, list any
		want    string
	}{
		{"x", []any{int32(1)}, "a.b: expected int32, got string"},
		{int32(1), []any{int32(1), "y"}, "a.list[1]: expected int32, got string"},
		{nil, []any{}, "a.b: invalid null value for required int32 field"},
	} {
		v := connect.NewStruct(outer).Put("a", connect.NewStruct(inner).Put("b", tc.b).Put("list", tc.list))
		_, err := c.FromConnect("t", outer, v)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want one containing %q", err, tc.want)
		}
	}
}

// BenchmarkCanonicalOrder: a 20-field order line as the connect bench's
// file source reads it (keys unsorted, repeating their order).
func BenchmarkCanonicalOrder(b *testing.B) {
	line := []byte(`{"id":123,"customer":"Customer 123","email":"c123@example.com","city":"London","country":"GB",` +
		`"items":7,"amount":123.95,"tax":21.66,"paid":true,"status":"SHIPPED","channel":"web","currency":"GBP",` +
		`"coupon":null,"warehouse":7,"weight":2.5,"priority":1,"note":"leave at the door","created":1795680000000,` +
		`"updated":1795680100000,"version":4}`)
	var c Canonicalizer
	var out []byte
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		var ok bool
		if out, ok = c.Object(line, out[:0]); !ok {
			b.Fatal("not canonicalized")
		}
	}
}
