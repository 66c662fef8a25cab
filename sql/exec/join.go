package exec

import (
	"encoding/binary"
	"fmt"

	"github.com/sluicedata/sluice/sql/funcs"
	"github.com/sluicedata/sluice/sql/types"
)

// Joins combine rows of two inputs into rows laid out as
//
//	left columns | right columns | join key
//
// A missing side (outer joins) leaves its columns NULL; the last column is
// the join key (the synthetic ROWKEY the planner names), which is never NULL
// in a result. Multi-way joins nest: the left input of an outer join is the
// output of an inner one, so its layout already ends with that join's key.
//
// The join operators keep their state in stores opened from Context.State
// for the input record's partition, so a join restarts from its changelogs
// like any other stateful operator.

// JoinType is the SQL join type.
type JoinType int

// The join types.
const (
	InnerJoin JoinType = iota + 1
	LeftJoin
	RightJoin
	OuterJoin
)

func (t JoinType) leftOuter() bool  { return t == LeftJoin || t == OuterJoin }
func (t JoinType) rightOuter() bool { return t == RightJoin || t == OuterJoin }

// JoinSide describes one input of a join: how to read its join key and how
// its rows are written to stores.
type JoinSide struct {
	// Key computes the join key of a row of this side; NULL never joins.
	Key Eval
	// Columns are the types of the side's row columns, in row order, for
	// the store encoding.
	Columns []types.Type
}

// JoinSpec is what every join operator needs.
type JoinSpec struct {
	// Name is the prefix of the join's store names (unique in the query).
	Name        string
	Type        JoinType
	Left, Right JoinSide
	KeyType     types.Type
	Next        Operator
	// Windowed is set for joins of windowed sources: the sides' keys are
	// WindowedKey values (the key and its window), so rows join when both
	// key and window are equal, and results carry that window
	// (SessionWindows: session windows). Time windows are equal when
	// they start together, as ksqlDB compares their serialized keys (which
	// hold only the start): results end at start + WindowSize (the left
	// source's size).
	Windowed, SessionWindows bool
	WindowSize               int64
}

// WindowedKeyType is the join key type of windowed sides whose key is t:
// the key and the window's start and end.
func WindowedKeyType(t types.Type) types.Type {
	return types.StructOf(types.F("K", t), types.F("WS", types.BigintType), types.F("WE", types.BigintType))
}

// WindowedKey makes a side's join key windowed (WindowedKeyType): a row
// without a window or key does not join. A session window is its start
// and end; a time window only its start (WE is 0), as in the record keys
// ksqlDB compares.
func WindowedKey(key Eval, session bool) Eval {
	return func(r *Row) (types.Value, error) {
		k, err := key(r)
		if err != nil || k == nil || r.Win == nil {
			return nil, err
		}
		end := int64(0)
		if session {
			end = r.Win.End
		}
		return types.StructVal{{Name: "K", Value: k}, {Name: "WS", Value: r.Win.Start}, {Name: "WE", Value: end}}, nil
	}
}

// joinInput is the Operator a join exposes for one of its inputs.
type joinInput func(c *Context, r *Row) error

func (f joinInput) Push(c *Context, r *Row) error { return f(c, r) }

// joined builds an output row; l or r is nil for the missing side.
func (s *JoinSpec) joined(l, r []types.Value, key types.Value, meta *Row, ts int64) *Row {
	nl, nr := len(s.Left.Columns), len(s.Right.Columns)
	cols := make([]types.Value, nl+nr+1)
	copy(cols, l)
	copy(cols[nl:], r)
	out := &Row{Cols: cols, Timestamp: ts, Partition: meta.Partition, Offset: meta.Offset, Headers: meta.Headers}
	if s.Windowed {
		// The key column holds the key; the window goes to the row.
		if wk, ok := key.(types.StructVal); ok {
			key = wk[0].Value
			out.Win = &Window{Start: wk[1].Value.(int64), End: wk[2].Value.(int64), Session: s.SessionWindows}
			if !s.SessionWindows {
				out.Win.End = out.Win.Start + s.WindowSize
			}
		}
	}
	cols[nl+nr] = key
	return out
}

// tombstone is a delete of key in a table result.
func (s *JoinSpec) tombstone(key types.Value, meta *Row, ts int64) *Row {
	r := s.joined(nil, nil, key, meta, ts)
	r.Tombstone = true
	return r
}

// encodeKey is the store key of a join key value.
func (s *JoinSpec) encodeKey(k types.Value) ([]byte, error) {
	b, err := funcs.EncodeValue(nil, s.KeyType, k)
	if err != nil {
		return nil, fmt.Errorf("join key: %w", err)
	}
	return b, nil
}

// evalKey computes a side's join key; an evaluation error is logged and
// counts as NULL (the row does not join).
func evalKey(c *Context, side *JoinSide, r *Row) types.Value {
	k, err := side.Key(r)
	if err != nil {
		c.logError(RecordProcessingError, fmt.Errorf("error computing the join key: %w", err))
		return nil
	}
	return k
}

// encodeRow writes a row's columns for a store.
func encodeRow(buf []byte, cols []types.Type, row []types.Value) ([]byte, error) {
	var err error
	for i, t := range cols {
		var v types.Value
		if i < len(row) {
			v = row[i]
		}
		if t.Kind == 0 {
			v = nil // untyped NULL column
		}
		if buf, err = funcs.EncodeValue(buf, t, v); err != nil {
			return nil, fmt.Errorf("column %d: %w", i, err)
		}
	}
	return buf, nil
}

// decodeRow reads a row written by encodeRow and returns the bytes after it.
func decodeRow(b []byte, cols []types.Type) ([]types.Value, []byte, error) {
	return decodeRowPadded(b, cols, false)
}

// decodeStoredRow decodes a row of a join store. A row that ends before
// its last columns was stored before the side gained them (the window
// bounds of windowed sources): they read as NULL.
func decodeStoredRow(b []byte, cols []types.Type) ([]types.Value, error) {
	row, _, err := decodeRowPadded(b, cols, true)
	return row, err
}

func decodeRowPadded(b []byte, cols []types.Type, pad bool) ([]types.Value, []byte, error) {
	row := make([]types.Value, len(cols))
	d := funcs.NewValueDecoder(b)
	for i, t := range cols {
		if pad && len(d.Rest()) == 0 && i > 0 {
			break
		}
		if t.Kind == 0 {
			t = types.BooleanType
		}
		v, err := d.Next(t)
		if err != nil {
			return nil, nil, fmt.Errorf("stored row, column %d: %w", i, err)
		}
		row[i] = v
	}
	return row, d.Rest(), nil
}

// appendRowList adds a row to a list of rows stored under one key (stream
// join buffers keep every record, as Kafka Streams' duplicate-retaining
// window stores do): uvarint count, then each row length-prefixed.
func appendRowList(list []byte, row []byte) []byte {
	n := uint64(0)
	rest := list
	if len(list) > 0 {
		var k int
		n, k = binary.Uvarint(list)
		rest = list[k:]
	}
	out := binary.AppendUvarint(nil, n+1)
	out = append(out, rest...)
	out = binary.AppendUvarint(out, uint64(len(row)))
	return append(out, row...)
}

// readRowList decodes a list written by appendRowList.
func readRowList(list []byte, cols []types.Type) ([][]types.Value, error) {
	n, k := binary.Uvarint(list)
	if k <= 0 {
		return nil, fmt.Errorf("corrupt stored row list")
	}
	list = list[k:]
	out := make([][]types.Value, 0, n)
	for range n {
		l, k := binary.Uvarint(list)
		if k <= 0 || uint64(len(list)-k) < l {
			return nil, fmt.Errorf("corrupt stored row list")
		}
		row, err := decodeStoredRow(list[k:k+int(l)], cols)
		if err != nil {
			return nil, err
		}
		out = append(out, row)
		list = list[k+int(l):]
	}
	return out, nil
}

// WithPseudoColumns appends the row's ROWTIME, ROWPARTITION and ROWOFFSET
// as columns, and with Window its WINDOWSTART and WINDOWEND (NULL for a
// row without a window), so that each source of a join keeps its own
// pseudo columns in the joined row.
type WithPseudoColumns struct {
	Window bool
	Next   Operator
}

// Push implements Operator.
func (w *WithPseudoColumns) Push(c *Context, r *Row) error {
	n := 3
	if w.Window {
		n = 5
	}
	// The row comes straight from the input's Decoder, which reserved room
	// for these columns (the planner adds them to the decoder's Extra) and
	// hands each row to this one operator: the columns are appended in
	// place. A row without the room is copied, as before.
	cols := r.Cols
	if cap(cols)-len(cols) < n {
		cols = make([]types.Value, len(r.Cols), len(r.Cols)+n)
		copy(cols, r.Cols)
	}
	cols = append(cols, r.Timestamp, r.Partition, r.Offset)
	if w.Window {
		if r.Win != nil {
			cols = append(cols, r.Win.Start, r.Win.End)
		} else {
			cols = append(cols, nil, nil)
		}
	}
	r.Cols = cols
	return w.Next.Push(c, r)
}

// funcReadKey decodes a join key written by encodeKey.
func funcReadKey(t types.Type, b []byte) (types.Value, []byte, error) {
	return funcs.DecodeValue(b, t)
}
