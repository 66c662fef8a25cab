// Package testrunner reads and judges ksqlDB's ksql-test-runner triples
// (statements.sql, input.json, output.json) the way ksqlDB does: the record
// file formats, lenient JSON (comments, decimals kept exact) and the
// comparison rules of ksqlDB's ExpectedRecordComparator. Running the
// statements is the engine's job; this package only knows the files and the
// verdict.
package testrunner

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Record is one record of input.json or output.json.
//
// Key and Value hold the JSON as decoded with json.Number for numbers, so a
// decimal like 1.10 keeps its digits until compared.
type Record struct {
	Topic string
	// HasKey is false when the file had no "key" (a null key).
	Key   any
	Value any
	// Timestamp is nil when the file had none: inputs then use 0 and outputs
	// do not check it.
	Timestamp *int64
	Window    *Window
	// Headers is nil when absent, which for outputs means "no headers".
	Headers []Header
}

// Window is a record's window bounds.
type Window struct {
	Start, End int64
	// Type is "TIME" (tumbling and hopping) or "SESSION".
	Type string
}

// Header is a record header; Value nil is a null header value.
type Header struct {
	Key   string
	Value []byte
}

// ReadInputs reads input.json: {"inputs": [record, ...]}.
func ReadInputs(path string) ([]Record, error) {
	return readRecords(path, "inputs", "Inputs")
}

// ReadOutputs reads output.json: {"outputs": [record, ...]}.
func ReadOutputs(path string) ([]Record, error) {
	return readRecords(path, "outputs", "Outputs")
}

func readRecords(path, field, title string) ([]Record, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	recs, err := ParseRecords(data, field, title)
	if err != nil {
		return nil, fmt.Errorf("File name: %s Message: %w", path, err)
	}
	return recs, nil
}

// ParseRecords decodes a records file whose top-level object holds the list
// under field ("inputs" or "outputs"). Comments are allowed; unknown
// properties are ignored.
func ParseRecords(data []byte, field, title string) ([]Record, error) {
	clean, err := StripComments(data)
	if err != nil {
		return nil, err
	}
	var top map[string]json.RawMessage
	if err := decodeNumbers(clean, &top); err != nil {
		return nil, err
	}
	raw, ok := top[field]
	if !ok {
		return nil, fmt.Errorf("No '%s' field in the %s file.", field, strings.TrimSuffix(field, "s"))
	}
	var items []map[string]json.RawMessage
	if err := decodeNumbers(raw, &items); err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("%s cannot be empty.", title)
	}
	out := make([]Record, 0, len(items))
	for i, it := range items {
		r, err := parseRecord(it)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", field, i, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func parseRecord(it map[string]json.RawMessage) (Record, error) {
	var r Record
	get := func(name string) (json.RawMessage, bool) {
		v, ok := it[name]
		return v, ok
	}
	t, ok := get("topic")
	if !ok {
		return r, errors.New(`missing "topic"`)
	}
	if err := json.Unmarshal(t, &r.Topic); err != nil || r.Topic == "" {
		return r, errors.New(`"topic" must be a non-empty string`)
	}
	if k, ok := get("key"); ok {
		if err := decodeNumbers(k, &r.Key); err != nil {
			return r, fmt.Errorf("key: %w", err)
		}
	}
	v, ok := get("value")
	if !ok {
		return r, errors.New(`missing "value"`)
	}
	if err := decodeNumbers(v, &r.Value); err != nil {
		return r, fmt.Errorf("value: %w", err)
	}
	if ts, ok := get("timestamp"); ok && string(ts) != "null" {
		var n int64
		if err := json.Unmarshal(ts, &n); err != nil {
			return r, fmt.Errorf("timestamp: %w", err)
		}
		r.Timestamp = &n
	}
	if w, ok := get("window"); ok && string(w) != "null" {
		var win struct {
			Start *int64 `json:"start"`
			End   *int64 `json:"end"`
			Type  string `json:"type"`
		}
		if err := json.Unmarshal(w, &win); err != nil {
			return r, fmt.Errorf("window: %w", err)
		}
		if win.Start == nil || win.End == nil {
			return r, errors.New("window: needs start and end")
		}
		typ := strings.ToUpper(win.Type)
		if typ != "TIME" && typ != "SESSION" {
			return r, fmt.Errorf("window: type %q is not time or session", win.Type)
		}
		r.Window = &Window{Start: *win.Start, End: *win.End, Type: typ}
	}
	if h, ok := get("headers"); ok && string(h) != "null" {
		var hs []map[string]*string
		if err := json.Unmarshal(h, &hs); err != nil {
			return r, fmt.Errorf("headers: %w", err)
		}
		r.Headers = []Header{}
		for i, m := range hs {
			key := m["KEY"]
			if key == nil {
				return r, fmt.Errorf("headers[%d]: missing KEY", i)
			}
			hd := Header{Key: *key}
			if v := m["VALUE"]; v != nil {
				b, err := base64.StdEncoding.DecodeString(*v)
				if err != nil {
					return r, fmt.Errorf("headers[%d]: VALUE is not base64: %w", i, err)
				}
				hd.Value = b
			}
			r.Headers = append(r.Headers, hd)
		}
	}
	return r, nil
}

func decodeNumbers(data []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	return d.Decode(v)
}

// StripComments removes // and /* */ comments outside JSON strings, so that
// files written for ksqlDB's lenient Jackson reader decode with encoding/json.
func StripComments(data []byte) ([]byte, error) {
	out := make([]byte, 0, len(data))
	inString := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inString {
			out = append(out, c)
			if c == '\\' && i+1 < len(data) {
				i++
				out = append(out, data[i])
			} else if c == '"' {
				inString = false
			}
			continue
		}
		switch {
		case c == '"':
			inString = true
			out = append(out, c)
		case c == '/' && i+1 < len(data) && data[i+1] == '/':
			for i < len(data) && data[i] != '\n' {
				i++
			}
			out = append(out, '\n')
		case c == '/' && i+1 < len(data) && data[i+1] == '*':
			end := bytes.Index(data[i+2:], []byte("*/"))
			if end < 0 {
				return nil, errors.New("unterminated /* comment")
			}
			i += end + 3
			out = append(out, ' ')
		default:
			out = append(out, c)
		}
	}
	return out, nil
}
