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
