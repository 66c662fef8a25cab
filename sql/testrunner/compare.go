package testrunner

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"

	"github.com/sluicedata/sluice/sql/types"
)

// Actual is a record the engine wrote, deserialized with its topic's key and
// value formats: single-column keys as the bare value, multi-column keys as a
// StructVal, values as a StructVal (or the bare value for KAFKA and unwrapped
// formats, the text line for DELIMITED).
type Actual struct {
	Topic     string
	Key       types.Value
	Window    *Window
	Value     types.Value
	Timestamp int64
	Headers   []Header
}

// Compare judges actual records against the expected outputs as
// ksql-test-runner does: per expected topic, the same number of records, then
// record by record in order. hadInputFile matters for timestamps: without an
// input file an expected timestamp of 0 means "any". The error text is
// ksqlDB's failure reason.
func Compare(expected []Record, actual []Actual, hadInputFile bool) error {
	var topics []string
	byTopic := map[string][]Record{}
	for _, e := range expected {
		if _, seen := byTopic[e.Topic]; !seen {
			topics = append(topics, e.Topic)
		}
		byTopic[e.Topic] = append(byTopic[e.Topic], e)
	}
	got := map[string][]Actual{}
	for _, a := range actual {
		got[a.Topic] = append(got[a.Topic], a)
	}
	for _, t := range topics {
		want, have := byTopic[t], got[t]
		if len(want) != len(have) {
			var b strings.Builder
			fmt.Fprintf(&b, "Topic %s. Expected %d records but it was %d", t, len(want), len(have))
			for _, a := range have {
				fmt.Fprintf(&b, "\n\t%s", describeActual(a))
			}
			return &CompareError{Msg: b.String()}
		}
		for i := range want {
			if !recordMatches(want[i], have[i], hadInputFile) {
				return &CompareError{Msg: fmt.Sprintf("Topic '%s', message %d: Expected %s but was %s", t, i, describeExpected(want[i]), describeActual(have[i]))}
			}
		}
	}
	return nil
}

func recordMatches(e Record, a Actual, hadInputFile bool) bool {
	if e.Window != nil {
		if a.Window == nil || *a.Window != *e.Window {
			return false
		}
	} else if a.Window != nil {
		return false
	}
	if !Matches(e.Key, a.Key) || !Matches(e.Value, a.Value) {
		return false
	}
	if len(e.Headers) != len(a.Headers) {
		return false
	}
	for i := range e.Headers {
		if e.Headers[i].Key != a.Headers[i].Key || !bytes.Equal(e.Headers[i].Value, a.Headers[i].Value) ||
			(e.Headers[i].Value == nil) != (a.Headers[i].Value == nil) {
			return false
		}
	}
	if e.Timestamp != nil && !(*e.Timestamp == 0 && !hadInputFile) && *e.Timestamp != a.Timestamp {
		return false
	}
	return true
}

// Matches reports whether the actual SQL value matches the expected JSON
// value (decoded with json.Number), by ksqlDB's rules: objects by field count
// and names (exact, then upper-cased), arrays element-wise, numbers by the
// actual's type (doubles within 1e-6, decimals scale-exact), strings also
// against decimals and base64 of bytes.
func Matches(expected any, actual types.Value) bool {
	switch e := expected.(type) {
	case nil:
		return actual == nil
	case map[string]any:
		return objectMatches(e, actual)
	case []any:
		arr, ok := actual.([]types.Value)
		if !ok || len(arr) != len(e) {
			return false
		}
		for i := range e {
			if !Matches(e[i], arr[i]) {
				return false
			}
		}
		return true
	case json.Number:
		return numberMatches(e, actual)
	case string:
		switch a := actual.(type) {
		case string:
			return a == e
		case types.Dec:
			d, err := types.ParseDec(e)
			return err == nil && types.Equal(d, a)
		case []byte:
			return base64.StdEncoding.EncodeToString(a) == e
		}
		return false
	case bool:
		a, ok := actual.(bool)
		return ok && a == e
	}
	return false
}

func objectMatches(e map[string]any, actual types.Value) bool {
	lookup := func(name string) (types.Value, bool) { return nil, false }
	size := 0
	switch a := actual.(type) {
	case types.StructVal:
		size = len(a)
		lookup = a.Get
	case map[string]types.Value:
		size = len(a)
		lookup = func(n string) (types.Value, bool) { v, ok := a[n]; return v, ok }
	default:
		return false
	}
	if size != len(e) {
		return false
	}
	for name, want := range e {
		v, ok := lookup(name)
		if !ok {
			v, _ = lookup(strings.ToUpper(name))
		}
		if !Matches(want, v) {
			return false
		}
	}
	return true
}

func numberMatches(e json.Number, actual types.Value) bool {
	text := e.String()
	integral := !strings.ContainsAny(text, ".eE")
	switch a := actual.(type) {
	case int32:
		n, ok := truncated(text)
		return ok && n == int64(a)
	case int64:
		n, ok := truncated(text)
		return ok && n == a
	case types.TimestampVal:
		n, ok := truncated(text)
		return ok && n == int64(a)
	case types.DateVal:
		n, ok := truncated(text)
		return ok && n == int64(a)
	case types.TimeVal:
		n, ok := truncated(text)
		return ok && n == int64(a)
	case float64:
		f, err := strconv.ParseFloat(text, 64)
		return err == nil && math.Abs(f-a) < 1e-6
	case types.Dec:
		d, err := types.ParseDec(text)
		if err != nil {
			return false
		}
		if integral {
			return a.Scale <= 0 && d.Rat().Cmp(a.Rat()) == 0
		}
		return types.Equal(d, a)
	}
	return false
}

// truncated reads a JSON number as Java's intValue/longValue would: a
// fraction is cut toward zero.
func truncated(text string) (int64, bool) {
	if n, err := strconv.ParseInt(text, 10, 64); err == nil {
		return n, true
	}
	r, ok := new(big.Rat).SetString(text)
	if !ok {
		return 0, false
	}
	q := new(big.Int).Quo(r.Num(), r.Denom())
	return q.Int64(), q.IsInt64()
}

func describeExpected(r Record) string {
	ts := "any"
	if r.Timestamp != nil {
		ts = strconv.FormatInt(*r.Timestamp, 10)
	}
	key := describeJSON(r.Key)
	if r.Window != nil {
		key = fmt.Sprintf("%s@[%s %d-%d]", key, r.Window.Type, r.Window.Start, r.Window.End)
	}
	return fmt.Sprintf("<%s, %s> with timestamp=%s and headers=%s", key, describeJSON(r.Value), ts, describeHeaders(r.Headers))
}

func describeActual(a Actual) string {
	key := FormatValue(a.Key)
	if a.Window != nil {
		key = fmt.Sprintf("%s@[%s %d-%d]", key, a.Window.Type, a.Window.Start, a.Window.End)
	}
	return fmt.Sprintf("<%s, %s> with timestamp=%d and headers=%s", key, FormatValue(a.Value), a.Timestamp, describeHeaders(a.Headers))
}

func describeJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func describeHeaders(hs []Header) string {
	parts := make([]string, len(hs))
	for i, h := range hs {
		v := "null"
		if h.Value != nil {
			v = base64.StdEncoding.EncodeToString(h.Value)
		}
		parts[i] = fmt.Sprintf("{KEY=%s, VALUE=%s}", h.Key, v)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// FormatValue prints an SQL value as JSON-like text for failure messages:
// structs and maps as objects (map keys sorted), bytes as base64, decimals and
// temporal values by their ksqlDB text.
func FormatValue(v types.Value) string {
	var b strings.Builder
	formatValue(&b, v)
	return b.String()
}

func formatValue(b *strings.Builder, v types.Value) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		q, _ := json.Marshal(x)
		b.Write(q)
	case []byte:
		b.WriteString(strconv.Quote(base64.StdEncoding.EncodeToString(x)))
	case float64:
		b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
	case types.StructVal:
		b.WriteByte('{')
		for i, f := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			q, _ := json.Marshal(f.Name)
			b.Write(q)
			b.WriteByte(':')
			formatValue(b, f.Value)
		}
		b.WriteByte('}')
	case map[string]types.Value:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			q, _ := json.Marshal(k)
			b.Write(q)
			b.WriteByte(':')
			formatValue(b, x[k])
		}
		b.WriteByte('}')
	case []types.Value:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			formatValue(b, e)
		}
		b.WriteByte(']')
	default:
		fmt.Fprint(b, x)
	}
}

// CompareError is a mismatch between expected and actual records (as
// opposed to a statement or file error).
type CompareError struct{ Msg string }

func (e *CompareError) Error() string { return e.Msg }
