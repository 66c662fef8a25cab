package exec

import (
	"encoding/binary"
	"fmt"

	"github.com/sluicedata/sluice/serde"
	"github.com/sluicedata/sluice/sql/types"
)

// Repartitioning: a GROUP BY or a join side whose key is not the key its
// source is partitioned by must see all the rows of one key in one task.
// As Kafka Streams does, the query writes those rows to a repartition topic
// keyed by the new key and reads them back, in the same consumer group:
//
//	... -> Repartition --record--> <query>-<Name>-repartition
//	<query>-<Name>-repartition --record--> repartition Decoder -> aggregate/join
//
// The record key is the new key serialized in a key format chosen by the
// planner (the result's or the other join side's), so the default
// partitioner (murmur2 of the key bytes, as Kafka's) puts a key in the same
// partition as in co-partitioned topics. The value is the whole row in an
// internal positional encoding (the layout at the split point), so the
// operators after the split read the row as if it had not left the process
// and no expression is bound again. Record timestamp and headers are the
// row's.
//
// Rows read back carry the repartition record's partition and offset: the
// stores downstream are those of the repartition partition, and the
// sequence of *_BY_OFFSET aggregates follows the order rows arrive there.

// repartitionFormat is the first byte of a repartition value; a later
// layout change gets a new number.
const repartitionFormat = 1

const (
	repartitionWindowed = 1 << iota
	repartitionSession
	// repartitionSubtract marks a table GROUP BY's subtractor: the old row
	// of a source key, read back as a Tombstone row with all its columns.
	repartitionSubtract
)

// Repartition is the writing half: it turns each row into a record of the
// repartition topic. Rows whose new key is NULL, and null values
// (tombstones), are dropped before the topic, as Kafka Streams' groupBy and
// stream joins drop them.
type Repartition struct {
	// Name is ksqlDB's name of the split point (Aggregate-GroupBy,
	// Join-left ...): the topic is <query prefix>-<Name>-repartition.
	Name string
	// key computes the new key; ok is false when the row has no key (the
	// reason is already logged).
	key    func(c *Context, r *Row) ([]types.Value, bool)
	layout []types.Type
	// written is the layout the rows are written with: layout, or with
	// Kind 0 (NULL) for the columns nothing downstream reads (WriteOnly).
	// The reading half decodes with layout, so records written either way
	// read back.
	written []types.Type
	// table is set for a table GROUP BY (repartition_table.go).
	table *tableSplit

	topic    string
	keyNames []string
	keySer   serde.Serializer
	scratch  types.StructVal
	// valueCap sizes each value's buffer: the largest value written so
	// far, so that a value is one allocation rather than a series of
	// growths. Each record gets a buffer of its own (the producer keeps it).
	valueCap int
}

// RepartitionPair is a split point: the operator that writes the
// repartition topic and the Input that reads it back into Next.
type RepartitionPair struct {
	Op    *Repartition
	input Input
}

// NewGroupByRepartition splits before an aggregation: the new key is g's
// grouping key (a NULL grouping key is logged as the aggregate would);
// layout is the types of the row columns at the split point.
func NewGroupByRepartition(g *Grouping, layout []types.Type, next Operator) *RepartitionPair {
	return newRepartitionPair("Aggregate-GroupBy", g.key, layout, next)
}

// NewJoinRepartition splits before one input of a join: the new key is the
// side's join key; name is Join-left, Join-right ...
func NewJoinRepartition(name string, side JoinSide, next Operator) *RepartitionPair {
	key := func(c *Context, r *Row) ([]types.Value, bool) {
		k := evalKey(c, &side, r)
		return []types.Value{k}, k != nil
	}
	return newRepartitionPair(name, key, side.Columns, next)
}

func newRepartitionPair(name string, key func(*Context, *Row) ([]types.Value, bool), layout []types.Type, next Operator) *RepartitionPair {
	op := &Repartition{Name: name, key: key, layout: layout, written: layout}
	return &RepartitionPair{Op: op, input: Input{Decoder: &Decoder{repartition: layout}, Next: next}}
}

// Bind names the topic and sets how the new key is written: keyCols are
// the key's columns (names and types, in key order) written with
// keyFormat. Call it once, before the pipeline is built.
func (p *RepartitionPair) Bind(topic string, keyFormat serde.Format, keyCols []types.Column) error {
	for i := range keyCols {
		keyCols[i].Key = true
	}
	ser, err := keyFormat.Serializer(types.Schema{Columns: keyCols}.KeyType(), true)
	if err != nil {
		return fmt.Errorf("repartition topic %s: key format %s: %w", topic, keyFormat.Name(), err)
	}
	p.Op.topic, p.Op.keySer = topic, ser
	p.Op.keyNames = make([]string, len(keyCols))
	for i, c := range keyCols {
		p.Op.keyNames[i] = c.Name
	}
	p.input.Decoder.spec.Topic = topic
	p.input.Decoder.spec.Name = topic
	return nil
}

// Topic is the repartition topic ("" before Bind).
func (p *RepartitionPair) Topic() string { return p.Op.topic }

// Input is what reads the repartition topic; add it to the pipeline's
// inputs after Bind.
func (p *RepartitionPair) Input() Input { return p.input }

// WriteOnly writes only the columns i with keep[i] (the others as NULL):
// those the operators after the split read. Call it before the pipeline
// runs; a table's split, whose old rows are retracted whole, keeps all.
func (rp *Repartition) WriteOnly(keep []bool) {
	if rp.table != nil {
		return
	}
	w := make([]types.Type, len(rp.layout))
	for i, t := range rp.layout {
		if i < len(keep) && keep[i] {
			w[i] = t
		}
	}
	rp.written = w
}

// Push implements Operator.
func (rp *Repartition) Push(c *Context, r *Row) error {
	if rp.keySer == nil {
		return fmt.Errorf("repartition %s: not bound to a topic", rp.Name)
	}
	if rp.table != nil {
		return rp.table.push(c, r)
	}
	if r.Tombstone {
		return nil
	}
	keys, ok := rp.key(c, r)
	if !ok {
		return nil
	}
	rp.emit(c, r, keys, false)
	return nil
}

// emit writes r keyed by keys; subtract marks a table's old row.
func (rp *Repartition) emit(c *Context, r *Row, keys []types.Value, subtract bool) {
	k := rp.scratch[:0]
	for i, v := range keys {
		k = append(k, types.FieldValue{Name: rp.keyNames[i], Value: v})
	}
	rp.scratch = k
	kb, err := rp.keySer.Serialize(c.Ctx, rp.topic, k)
	if err != nil {
		c.logError(SerializationError, fmt.Errorf("failed to serialize key for topic %s: %w", rp.topic, err))
		return
	}
	vb, err := encodeRepartitionValue(make([]byte, 0, rp.valueCap), rp.written, r, subtract)
	if err != nil {
		c.logError(SerializationError, fmt.Errorf("failed to serialize value for topic %s: %w", rp.topic, err))
		return
	}
	if len(vb) > rp.valueCap {
		rp.valueCap = len(vb)
	}
	c.out = append(c.out, Record{Topic: rp.topic, Key: kb, Value: vb, Timestamp: r.Timestamp, Headers: r.Headers})
}

// encodeRepartitionValue appends a row to b: format byte, flags, the window
// when there is one, then each column of the layout (funcs.EncodeValue).
func encodeRepartitionValue(b []byte, layout []types.Type, r *Row, subtract bool) ([]byte, error) {
	var flags byte
	if subtract {
		flags |= repartitionSubtract
	}
	if r.Win != nil {
		flags |= repartitionWindowed
		if r.Win.Session {
			flags |= repartitionSession
		}
	}
	b = append(b, repartitionFormat, flags)
	if r.Win != nil {
		b = binary.AppendVarint(b, r.Win.Start)
		b = binary.AppendVarint(b, r.Win.End)
	}
	return encodeRow(b, layout, r.Cols)
}

// decodeRepartition reads a record written by Repartition back into a row
// of the layout.
func decodeRepartition(layout []types.Type, rec *Record) (*Row, error) {
	b := rec.Value
	if len(b) < 2 || b[0] != repartitionFormat {
		return nil, fmt.Errorf("failed to deserialize value from topic %s: not a repartition record of this version", rec.Topic)
	}
	row := &Row{Timestamp: rec.Timestamp, Partition: rec.Partition, Offset: rec.Offset, Headers: rec.Headers}
	flags := b[1]
	row.Tombstone = flags&repartitionSubtract != 0
	b = b[2:]
	if flags&repartitionWindowed != 0 {
		start, n := binary.Varint(b)
		if n <= 0 {
			return nil, fmt.Errorf("failed to deserialize value from topic %s: bad window start", rec.Topic)
		}
		b = b[n:]
		end, n := binary.Varint(b)
		if n <= 0 {
			return nil, fmt.Errorf("failed to deserialize value from topic %s: bad window end", rec.Topic)
		}
		b = b[n:]
		row.Win = &Window{Start: start, End: end, Session: flags&repartitionSession != 0}
	}
	cols, _, err := decodeRow(b, layout)
	if err != nil {
		return nil, fmt.Errorf("failed to deserialize value from topic %s: %w", rec.Topic, err)
	}
	for i, t := range layout {
		if t.Kind == 0 {
			cols[i] = nil
		}
	}
	row.Cols = cols
	return row, nil
}
