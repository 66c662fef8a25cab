package serde

import (
	"context"
	"reflect"
	"testing"

	"github.com/sluicedata/sluice/sql/types"
)

// TestJSONFastMatchesSlow checks that the type-directed fast path reads
// what the encoding/json path reads, and declines (so that the slow path
// reports the error) whatever the slow path rejects.
func TestJSONFastMatchesSlow(t *testing.T) {
	row := types.StructOf(types.F("I", types.IntType), types.F("B", types.BigintType),
		types.F("D", types.DoubleType), types.F("M", types.DecimalOf(5, 2)), types.F("S", types.StringType),
		types.F("F", types.BooleanType), types.F("BY", types.BytesType), types.F("TS", types.TimestampType),
		types.F("A", types.ArrayOf(types.IntType)), types.F("MP", types.MapOf(types.StringType)),
		types.F("ST", types.StructOf(types.F("X", types.IntType))), types.F("camel", types.StringType))
	docs := []string{
		`{"I": 1, "B": 2, "D": 1.5, "M": 1.25, "S": "x", "F": true, "BY": "AQI=", "TS": 5, "A": [1, null], "MP": {"k": "v"}, "ST": {"X": 3}, "camel": "c"}`,
		`{"i": "7", "b": "8", "d": "NaN", "m": "3.1", "s": 12, "f": "false", "CAMEL": "upper"}`,
		`{"S": "esc\"aped \u00e9\n", "unknown": {"deep": [1, 2, {"x": null}]}, "I": null}`,
		`{"I": 1, "i": 2}`, `{"i": 2, "I": 1}`,
		`{}`, ` {"I": 3} `,
		// rejected by both
		`{"I": 1.5}`, `{"I": "x"}`, `{"I": 1,}`, `{"I": 1} trailing`, `{"I" 1}`, `{"X": {bad}}`,
		`{"X": "bad \q escape"}`, `{"TS": -}`, `{"M": 1.234}`, `{"BY": "!!"}`, `{"A": {"no": 1}}`,
		`[1, 2]`, `"str"`, `not json`, `{"X": 01}`, `{"I": 99999999999}`, `{"B": 1e3}`, `{"B": 99999999999999999999}`,
		`{"B": -9223372036854775808}`, `{"I": -2147483648}`, `{"I": 2147483648}`, `{"TS": 1.0}`, `{"B": -0}`,
	}
	for _, d := range docs {
		slowV, slowErr := fromJSONText(row, []byte(d))
		fastV, fastErr := decodeJSONFast(row, []byte(d))
		if slowErr != nil {
			if fastErr == nil {
				t.Errorf("%s: slow path rejects (%v), fast path reads %v", d, slowErr, fastV)
			}
			continue
		}
		if fastErr != nil {
			t.Errorf("%s: slow path reads %v, fast path declines", d, slowV)
			continue
		}
		if !types.Equal(slowV, fastV) {
			t.Errorf("%s: slow %v, fast %v", d, slowV, fastV)
		}
	}
}

func TestJSONFastRejectsWhatJSONRejects(t *testing.T) {
	row := types.StructOf(types.F("I", types.IntType), types.F("A", types.ArrayOf(types.IntType)),
		types.F("MP", types.MapOf(types.IntType)))
	for _, d := range []string{`{"I": 1,}`, `{"X": 01}`, `{"I": 01}`, `{"I": -}`, `{"A": [1,]}`,
		`{"MP": {"a": 1,}}`, `{"I": 1}{"I": 2}`, `{"I": 1e}`, `{"X": .5}`, `{,}`, `{"I": tru}`} {
		if v, err := decodeJSONFast(row, []byte(d)); err == nil {
			t.Errorf("%s: fast path read %v", d, v)
		}
	}
}

func TestAppendDecMatchesString(t *testing.T) {
	for _, s := range []string{"0", "1.10", "-1.10", "0.001", "-0.001", "123456789.123", "0.0", "-0", "7",
		"99999999999999999999.5", "-9223372036854775808", "0.000000000000000001"} {
		d := types.MustDec(s)
		if got := string(appendDec(nil, d)); got != d.String() {
			t.Errorf("%s: appendDec %q, String %q", s, got, d.String())
		}
	}
}

// TestJSONFastStringsOwnTheirBytes checks that the strings of a decoded row,
// cut from one copy of the document, do not change when the caller's buffer
// is reused, and that they read the same as strings copied one by one.
func TestJSONFastStringsOwnTheirBytes(t *testing.T) {
	row := types.StructOf(types.F("A", types.StringType), types.F("N", types.StringType),
		types.F("L", types.ArrayOf(types.StringType)), types.F("E", types.StringType), types.F("Z", types.StringType))
	doc := []byte(`{"A": "alpha", "N": 12.5, "L": ["x", "", "yz"], "E": "t\u00e9\"x", "Z": ""}`)
	want := types.StructVal{{Name: "A", Value: "alpha"}, {Name: "N", Value: "12.5"},
		{Name: "L", Value: []types.Value{"x", "", "yz"}}, {Name: "E", Value: "té\"x"}, {Name: "Z", Value: ""}}
	got, err := decodeJSONFast(row, doc)
	if err != nil {
		t.Fatal(err)
	}
	for i := range doc {
		doc[i] = '#' // the record buffer is reused
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}
	// A slice that is not cut from the document is copied on its own.
	st := types.TextCopyOf([]byte(`"abc"`))
	if _, ok := st.String([]byte("abc")); ok {
		t.Fatal("a foreign slice was taken for a part of the document")
	}
}

// TestJSONDeserializeFieldsMatchesDeserialize: reading a row into a reused
// slice gives Deserialize's values, nulls and errors, whatever the slice
// held before.
func TestJSONDeserializeFieldsMatchesDeserialize(t *testing.T) {
	row := types.StructOf(types.F("I", types.IntType), types.F("S", types.StringType),
		types.F("A", types.ArrayOf(types.StringType)), types.F("camel", types.StringType))
	single := types.StructOf(types.F("V", types.StringType))
	docs := []string{`{"I": 1, "S": "x", "A": ["a"], "camel": "c"}`, ` {"i": "2", "CAMEL": "up"} `, `{}`, `null`,
		`{"I": 1.5}`, `{"I": 1,}`, `[1]`, `"str"`, `{"S": "esc\"aped"}`, `{"I": 1, "i": 2}`}
	for _, tc := range []struct {
		t    types.Type
		docs []string
	}{{row, docs}, {single, []string{`"w"`, `{"V": "x"}`, `null`, `7`}}} {
		de, err := JSON{}.Deserializer(tc.t, false)
		if err != nil {
			t.Fatal(err)
		}
		fd := de.(FieldsDeserializer)
		dst := make([]types.Value, len(tc.t.Fields))
		for _, d := range append(tc.docs, "") {
			b := []byte(d)
			if d == "" {
				b = nil
			}
			want, werr := de.Deserialize(context.Background(), "t", b)
			for i := range dst {
				dst[i] = "stale"
			}
			ok, err := fd.DeserializeFields(context.Background(), "t", b, dst)
			if (err == nil) != (werr == nil) || (err != nil && err.Error() != werr.Error()) {
				t.Fatalf("%s: error %v, want %v", d, err, werr)
			}
			if err != nil {
				continue
			}
			var got types.Value
			if ok {
				s := make(types.StructVal, len(dst))
				for i, f := range tc.t.Fields {
					s[i] = types.FieldValue{Name: f.Name, Value: dst[i]}
				}
				got = s
			} else {
				for i, v := range dst {
					if v != nil {
						t.Fatalf("%s: null value left field %d = %v", d, i, v)
					}
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: got %#v, want %#v", d, got, want)
			}
		}
	}
}
