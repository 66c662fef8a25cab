package converters

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/sluicedata/sluice/connect"
)

// checkAgrees fails the test when Check and ToConnect disagree on text.
func checkAgrees(t *testing.T, c *JSON, text string) {
	t.Helper()
	_, _, err := c.ToConnect("t", []byte(text))
	if ok := c.Check("t", []byte(text)); ok != (err == nil) {
		t.Fatalf("Check(%q) = %v, but ToConnect's error is %v", text, ok, err)
	}
}

// Check accepts exactly what ToConnect converts, for valid documents and for
// every truncation and many one-byte corruptions of them.
func TestJSONCheckAgreesWithToConnect(t *testing.T) {
	c := NewJSON()
	if err := c.Configure(connect.Config{"schemas.enable": "false"}, false); err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{
		``, `{}`, `[]`, ` {} `, `{} x`, `{"a":1}{}`, `null`, `true`, `fals`, `nul`, `"s"`, `"\u00e9"`, `"\ud800"`,
		`"\ud800\u0041"`, `"\uZZZZ"`, `"\q"`, "\"\x01\"", "\"\xff\"", `{"a":1,}`, `[1,]`, `{"a" 1}`, `{1:2}`,
		`-`, `-0`, `01`, `1.`, `1.5e`, `1e+5`, `1e999`, `-1e999`, `123456789012345678`, `1234567890123456789`,
		`99999999999999999999999`, `1` + strings.Repeat("0", 400), `{"a":{"b":[1,2,{"c":null}]}}`,
		strings.Repeat("[", maxJSONDepth) + strings.Repeat("]", maxJSONDepth),
		strings.Repeat("[", maxJSONDepth+1) + strings.Repeat("]", maxJSONDepth+1),
	} {
		checkAgrees(t, c, text)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	junk := []byte("{}[],:\"\\-+.eE0x 1nu\x00\xff")
	for range 300 {
		text := layout(rng, randomValue(rng, 0, true))
		checkAgrees(t, c, text)
		for i := range len(text) {
			checkAgrees(t, c, text[:i])
			b := []byte(text)
			b[i] = junk[rng.IntN(len(junk))]
			checkAgrees(t, c, string(b))
		}
	}
}

// With the schema envelope Check answers false (run ToConnect), except for
// empty data, which is always a tombstone.
func TestJSONCheckWithSchemas(t *testing.T) {
	c := NewJSON()
	if c.Check("t", []byte(`{"schema":null,"payload":1}`)) {
		t.Error("Check with schemas.enable = true, want false")
	}
	if !c.Check("t", nil) {
		t.Error("Check(nil) = false, want true (a tombstone)")
	}
}

// validSchemaless, the parser-free check, answers as the parser's skip
// mode does.
func TestValidSchemalessAgreesWithParser(t *testing.T) {
	agree := func(text string) {
		t.Helper()
		if got, want := validSchemaless([]byte(text)), checkJSON([]byte(text), true); got != want {
			t.Fatalf("validSchemaless(%q) = %v, the parser says %v", text, got, want)
		}
	}
	for _, text := range []string{
		``, ` `, `"\u12"`, `"\u123g"`, `"\u123G"`, `"\uABCD"`, `"\`, `"abc\`, `"\"`, `"\/\b\f\n\r\t\\"`, `[1 2]`, `{"a":1 "b":2}`,
		`{"a":}`, `[}`, `{]`, `{"a":1]`, `[1}`, `{"a"}`, `{,}`, `[,]`, `{"a":1,"b"}`, `tru`, `true1`, `[true,false,null]`,
		`-01`, `-a`, `0.0e-0`, `1E+`, `2.5E-400`, `1e309`, `[1e309]`, `{"a":-}`, `{"\u00e9":1}`, "{\"a\x01\":1}",
		strings.Repeat("[", 64) + strings.Repeat("]", 64), strings.Repeat("[", 65) + strings.Repeat("]", 65),
		strings.Repeat(`{"a":`, 65) + "1" + strings.Repeat("}", 65), strings.Repeat(`{"a":`, 65) + "1" + strings.Repeat("}", 64),
	} {
		agree(text)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	junk := []byte("{}[],:\"\\/-+.eE0x 1nutfbrl\x00\x1f\xff")
	for range 500 {
		text := layout(rng, randomValue(rng, 0, true))
		agree(text)
		for i := range len(text) {
			agree(text[:i])
			b := []byte(text)
			b[i] = junk[rng.IntN(len(junk))]
			agree(string(b))
			b = append([]byte(text[:i]), append([]byte{junk[rng.IntN(len(junk))]}, text[i:]...)...)
			agree(string(b))
		}
	}
}

func FuzzValidSchemaless(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5,"x\u0041",true,null,{}]}`, `"\ud800"`, `1e999`, `[[[]]]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validSchemaless(b), checkJSON(b, true); got != want {
			t.Fatalf("validSchemaless(%q) = %v, the parser says %v", b, got, want)
		}
	})
}

func BenchmarkJSONCheck(b *testing.B) {
	c := configured(b, NewJSON(), connect.Config{"schemas.enable": "false"}).(*JSON)
	data := []byte(orderLine)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if !c.Check("returns", data) {
			b.Fatal("Check = false")
		}
	}
}
