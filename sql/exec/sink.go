package exec

import (
	"encoding/binary"
	"fmt"

	"github.com/sluicedata/sluice/serde"
	"github.com/sluicedata/sluice/sql/types"
)

// SinkSpec describes how output rows become records of a sink topic.
type SinkSpec struct {
	Topic string
	// Columns is the output schema; row positions follow it.
	Columns []types.Column
	// KeyFormat writes the key columns (nil key when there are none or all
	// are NULL... a NULL single key column is a null key). ValueFormat
	// writes the value columns.
	KeyFormat, ValueFormat serde.Format
	// Timestamp, when set, computes the output record's timestamp from the
	// output row (the sink's TIMESTAMP property).
	Timestamp func(*Row) (int64, error)
	// Windowed sinks append the row's window to the key bytes in ksqlDB's
	// wire encoding (see AppendWindow).
	Windowed bool
}

// AppendWindow appends w to serialized key bytes as ksqlDB's windowed
// serializers do: a time window adds its start (8 bytes big-endian), a
// session window its end then its start (Kafka Streams' session key
// schema).
func AppendWindow(key []byte, w *Window) []byte {
	if w.Session {
		key = binary.BigEndian.AppendUint64(key, uint64(w.End))
	}
	return binary.BigEndian.AppendUint64(key, uint64(w.Start))
}

// SplitWindow takes the window suffix off windowed key bytes; size is the
// time windows' size (0 for sessions).
func SplitWindow(key []byte, session bool, size int64) ([]byte, *Window, error) {
	if session {
		if len(key) < 16 {
			return nil, nil, fmt.Errorf("session-windowed key of %d bytes: want at least 16", len(key))
		}
		n := len(key) - 16
		end := int64(binary.BigEndian.Uint64(key[n:]))
		start := int64(binary.BigEndian.Uint64(key[n+8:]))
		return key[:n], &Window{Start: start, End: end, Session: true}, nil
	}
	if len(key) < 8 {
		return nil, nil, fmt.Errorf("time-windowed key of %d bytes: want at least 8", len(key))
	}
	n := len(key) - 8
	start := int64(binary.BigEndian.Uint64(key[n:]))
	return key[:n], &Window{Start: start, End: start + size}, nil
}

// Encoder writes rows as records of one topic.
type Encoder struct {
	spec           SinkSpec
	keyIdx, valIdx []int
	keyNames       []string
	valNames       []string
	keySer, valSer serde.Serializer
	// key and value are scratch structs reused across records: a pipeline
	// encodes one record at a time and serializers do not keep values.
	key, value types.StructVal
}

// NewEncoder builds the serializers of a sink.
func NewEncoder(spec SinkSpec) (*Encoder, error) {
	e := &Encoder{spec: spec}
	var keyCols, valCols []types.Column
	for i, c := range spec.Columns {
		if c.Key {
			e.keyIdx = append(e.keyIdx, i)
			e.keyNames = append(e.keyNames, c.Name)
			keyCols = append(keyCols, c)
		} else {
			e.valIdx = append(e.valIdx, i)
			e.valNames = append(e.valNames, c.Name)
			valCols = append(valCols, c)
		}
	}
	if len(keyCols) > 0 {
		s, err := spec.KeyFormat.Serializer(types.Schema{Columns: keyCols}.KeyType(), true)
		if err != nil {
			return nil, fmt.Errorf("sink %s: key format %s: %w", spec.Topic, spec.KeyFormat.Name(), err)
		}
		e.keySer = s
	}
	s, err := spec.ValueFormat.Serializer(types.Schema{Columns: valCols}.ValueType(), false)
	if err != nil {
		return nil, fmt.Errorf("sink %s: value format %s: %w", spec.Topic, spec.ValueFormat.Name(), err)
	}
	e.valSer = s
	return e, nil
}

// Encode serializes r. tombstone writes a null value (table deletes).
func (e *Encoder) Encode(c *Context, r *Row, tombstone bool) (Record, error) {
	out := Record{Topic: e.spec.Topic, Timestamp: r.Timestamp, Headers: r.Headers}
	if e.spec.Timestamp != nil {
		ts, err := e.spec.Timestamp(r)
		if err != nil {
			return Record{}, err
		}
		out.Timestamp = ts
	}
	if e.keySer != nil {
		k := e.key[:0]
		allNull := true
		for i, idx := range e.keyIdx {
			k = append(k, types.FieldValue{Name: e.keyNames[i], Value: r.Cols[idx]})
			if r.Cols[idx] != nil {
				allNull = false
			}
		}
		e.key = k
		if !allNull {
			b, err := e.keySer.Serialize(c.Ctx, e.spec.Topic, k)
			if err != nil {
				return Record{}, fmt.Errorf("failed to serialize key for topic %s: %w", e.spec.Topic, err)
			}
			out.Key = b
		}
	}
	if e.spec.Windowed && r.Win != nil {
		out.Key = AppendWindow(out.Key, r.Win)
	}
	if !tombstone {
		v := e.value[:0]
		for i, idx := range e.valIdx {
			v = append(v, types.FieldValue{Name: e.valNames[i], Value: r.Cols[idx]})
		}
		e.value = v
		b, err := e.valSer.Serialize(c.Ctx, e.spec.Topic, v)
		if err != nil {
			return Record{}, fmt.Errorf("failed to serialize value for topic %s: %w", e.spec.Topic, err)
		}
		out.Value = b
	}
	return out, nil
}
