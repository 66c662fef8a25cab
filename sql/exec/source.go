package exec

import (
	"fmt"

	"github.com/sluicedata/sluice/serde"
	"github.com/sluicedata/sluice/sql/types"
)

// HeaderColumn says how a column is filled from the record headers instead
// of the key or value: All is a HEADERS column (every header, as
// ARRAY<STRUCT<KEY STRING, VALUE BYTES>>); otherwise the column is
// HEADER('Key'): the last header with that key as BYTES, or NULL.
type HeaderColumn struct {
	All bool
	Key string
}

// SourceSpec describes how a source's records become rows.
type SourceSpec struct {
	// Name is the stream or table name, for messages.
	Name  string
	Topic string
	// Columns are the source's columns in declared order; a decoded row
	// holds them at these positions.
	Columns []types.Column
	// Headers maps column positions to header columns; those columns are
	// neither in the key nor in the value.
	Headers map[int]HeaderColumn
	// KeyFormat reads the key columns (ignored when there are none, the key
	// bytes are then not read). ValueFormat reads the value columns.
	KeyFormat, ValueFormat serde.Format
	// Timestamp, when set, computes the row's event time (the source's
	// TIMESTAMP property) from the decoded row; otherwise the record's
	// timestamp is the row time.
	Timestamp func(*Row) (int64, error)
	// Extra is the number of additional column slots operators append
	// (table function results); decoding reserves room for them.
	Extra int
	// SkipNullKeys drops records whose key columns are all NULL: a table
	// row needs a key (Kafka Streams' table sources skip them too).
	SkipNullKeys bool
	// Windowed sources (WINDOW_TYPE) have the window after the key bytes;
	// WindowSize is the time windows' size (0 for SESSION).
	Windowed      bool
	SessionWindow bool
	WindowSize    int64
}

// Decoder turns raw records of one source into rows.
type Decoder struct {
	spec            SourceSpec
	keyIdx, valIdx  []int
	keyDe, valDe    serde.Deserializer
	keyUnwrapped    bool
	valueColumnType types.Type
	// valFields, when the value format has one, reads the value columns
	// into fields, a slice reused for every record (the values are copied
	// into the row at once).
	valFields serde.FieldsDeserializer
	fields    []types.Value
	// repartition is the row layout of a repartition topic's records
	// (repartition.go); nil for a stream or table.
	repartition []types.Type
}

// NewDecoder builds the deserializers of a source.
func NewDecoder(spec SourceSpec) (*Decoder, error) {
	d := &Decoder{spec: spec}
	var keyCols, valCols []types.Column
	for i, c := range spec.Columns {
		if _, ok := spec.Headers[i]; ok {
			continue
		}
		if c.Key {
			d.keyIdx = append(d.keyIdx, i)
			keyCols = append(keyCols, c)
		} else {
			d.valIdx = append(d.valIdx, i)
			valCols = append(valCols, c)
		}
	}
	if len(keyCols) > 0 {
		if spec.KeyFormat == nil {
			return nil, fmt.Errorf("source %s: no key format", spec.Name)
		}
		kt := types.Schema{Columns: keyCols}.KeyType()
		de, err := spec.KeyFormat.Deserializer(kt, true)
		if err != nil {
			return nil, fmt.Errorf("source %s: key format %s: %w", spec.Name, spec.KeyFormat.Name(), err)
		}
		d.keyDe = de
	}
	if spec.ValueFormat == nil {
		return nil, fmt.Errorf("source %s: no value format", spec.Name)
	}
	vt := types.Schema{Columns: valCols}.ValueType()
	de, err := spec.ValueFormat.Deserializer(vt, false)
	if err != nil {
		return nil, fmt.Errorf("source %s: value format %s: %w", spec.Name, spec.ValueFormat.Name(), err)
	}
	d.valDe = de
	d.valueColumnType = vt
	if fd, ok := de.(serde.FieldsDeserializer); ok && vt.Kind == types.Struct {
		d.valFields, d.fields = fd, make([]types.Value, len(vt.Fields))
	}
	return d, nil
}

// Decode reads rec into a row. A record with a null value becomes a
// Tombstone row holding only its key columns. A nil row with a nil error
// means the record is skipped (SkipNullKeys).
func (d *Decoder) Decode(c *Context, rec *Record) (*Row, error) {
	if d.repartition != nil {
		return decodeRepartition(d.repartition, rec)
	}
	row := &Row{Cols: make([]types.Value, len(d.spec.Columns), len(d.spec.Columns)+d.spec.Extra),
		Timestamp: rec.Timestamp, Partition: rec.Partition, Offset: rec.Offset, Headers: rec.Headers}
	key := rec.Key
	if d.spec.Windowed && key != nil {
		k, w, err := SplitWindow(key, d.spec.SessionWindow, d.spec.WindowSize)
		if err != nil {
			return nil, fmt.Errorf("failed to deserialize key from topic %s: %w", rec.Topic, err)
		}
		key, row.Win = k, w
	}
	if d.keyDe != nil {
		k, err := d.keyDe.Deserialize(c.Ctx, rec.Topic, key)
		if err != nil {
			return nil, fmt.Errorf("failed to deserialize key from topic %s: %w", rec.Topic, err)
		}
		if s, ok := k.(types.StructVal); ok {
			for i, idx := range d.keyIdx {
				row.Cols[idx] = s[i].Value
			}
		}
	}
	if rec.Value != nil && d.valFields != nil {
		ok, err := d.valFields.DeserializeFields(c.Ctx, rec.Topic, rec.Value, d.fields)
		if err != nil {
			return nil, fmt.Errorf("failed to deserialize value from topic %s: %w", rec.Topic, err)
		}
		row.Tombstone = !ok
		for i, idx := range d.valIdx {
			row.Cols[idx] = d.fields[i]
		}
		clear(d.fields)
	} else if rec.Value != nil {
		v, err := d.valDe.Deserialize(c.Ctx, rec.Topic, rec.Value)
		if err != nil {
			return nil, fmt.Errorf("failed to deserialize value from topic %s: %w", rec.Topic, err)
		}
		s, ok := v.(types.StructVal)
		if !ok && v != nil {
			return nil, fmt.Errorf("value from topic %s: got %T, want a row", rec.Topic, v)
		}
		row.Tombstone = s == nil
		for i, idx := range d.valIdx {
			if i < len(s) {
				row.Cols[idx] = s[i].Value
			}
		}
	} else {
		row.Tombstone = true
	}
	if d.spec.SkipNullKeys && len(d.keyIdx) > 0 {
		allNull := true
		for _, idx := range d.keyIdx {
			allNull = allNull && row.Cols[idx] == nil
		}
		if allNull {
			return nil, nil
		}
	}
	for idx, h := range d.spec.Headers {
		row.Cols[idx] = headerValue(d.spec.Columns[idx].Type, h, rec.Headers)
	}
	if d.spec.Timestamp != nil && !row.Tombstone {
		ts, err := d.spec.Timestamp(row)
		if err != nil {
			return nil, errTimestamp{err}
		}
		row.Timestamp = ts
	}
	return row, nil
}

// errTimestamp marks an invalid event time: the row is dropped as a
// processing error rather than a deserialization error.
type errTimestamp struct{ error }

func (e errTimestamp) Unwrap() error { return e.error }

func headerValue(t types.Type, h HeaderColumn, hs []Header) types.Value {
	if !h.All {
		var v types.Value
		for _, x := range hs {
			if x.Key == h.Key {
				if x.Value == nil {
					v = nil
				} else {
					v = x.Value
				}
			}
		}
		return v
	}
	keyName, valName := "KEY", "VALUE"
	if t.Kind == types.Array && t.Elem != nil && len(t.Elem.Fields) == 2 {
		keyName, valName = t.Elem.Fields[0].Name, t.Elem.Fields[1].Name
	}
	out := make([]types.Value, 0, len(hs))
	for _, x := range hs {
		var v types.Value
		if x.Value != nil {
			v = x.Value
		}
		out = append(out, types.StructVal{{Name: keyName, Value: x.Key}, {Name: valName, Value: v}})
	}
	return out
}

// TimestampColumn returns an event-time extractor reading column idx of type
// t: BIGINT milliseconds, TIMESTAMP, or STRING parsed by parse (the
// TIMESTAMP_FORMAT). A NULL or negative time is an error, as in ksqlDB,
// which then drops the row.
func TimestampColumn(name string, idx int, t types.Type, parse func(string) (int64, error)) (func(*Row) (int64, error), error) {
	switch t.Kind {
	case types.Bigint, types.Timestamp:
	case types.String:
		if parse == nil {
			return nil, fmt.Errorf("TIMESTAMP column %s is a STRING: TIMESTAMP_FORMAT is required", types.QuoteIdent(name))
		}
	default:
		return nil, fmt.Errorf("TIMESTAMP column %s must be BIGINT, TIMESTAMP or STRING, not %s", types.QuoteIdent(name), t)
	}
	return func(r *Row) (int64, error) {
		var ms int64
		switch v := r.Cols[idx].(type) {
		case nil:
			return 0, fmt.Errorf("timestamp column %s is null", name)
		case int64:
			ms = v
		case types.TimestampVal:
			ms = int64(v)
		case string:
			p, err := parse(v)
			if err != nil {
				return 0, fmt.Errorf("timestamp column %s: %w", name, err)
			}
			ms = p
		default:
			return 0, fmt.Errorf("timestamp column %s: unexpected %T", name, v)
		}
		if ms < 0 {
			return 0, fmt.Errorf("timestamp column %s: negative timestamp %d", name, ms)
		}
		return ms, nil
	}, nil
}
