package exec

import (
	"github.com/sluicedata/sluice/sql/funcs"
	"github.com/sluicedata/sluice/sql/types"
)

// ForeignKeyJoin joins a left table to a right table on an expression of the
// left row (the foreign key) equal to the right table's primary key. The
// result is keyed by the left table's primary key, whose value the planner
// finds in the key column of the joined row. It follows Kafka Streams'
// foreign-key join (subscriptions and responses, here in one process):
//
//   - a new left row emits when its foreign key has a right row (INNER), or
//     always (LEFT, NULL right columns when there is none);
//   - an updated left row emits the same way, except that an INNER join with
//     no right row emits a delete (the previous result, if any, is gone);
//   - a deleted left row emits a delete;
//   - a right change emits for every left row whose foreign key is its key:
//     the joined row, or when the right row is deleted a delete (INNER) or
//     the left row with NULLs (LEFT).
//
// Results carry the time of the record that triggered them. Only INNER and
// LEFT exist, as in ksqlDB.
type ForeignKeyJoin struct {
	JoinSpec
	// LeftPK reads the left table's primary key and LeftPKType is its type.
	LeftPK     Eval
	LeftPKType types.Type
	Where      Eval

	left, right tableState
	subs        string
}

// NewForeignKeyJoin returns the join; its inputs are LeftInput() and
// RightInput(). spec.Left.Key is the foreign key expression.
func NewForeignKeyJoin(spec JoinSpec, leftPK Eval, leftPKType types.Type, where Eval) *ForeignKeyJoin {
	return &ForeignKeyJoin{JoinSpec: spec, LeftPK: leftPK, LeftPKType: leftPKType, Where: where,
		left:  tableState{name: spec.Name + "-left", cols: spec.Left.Columns},
		right: tableState{name: spec.Name + "-right", cols: spec.Right.Columns},
		subs:  spec.Name + "-subscriptions"}
}

// LeftInput is the left table's input.
func (j *ForeignKeyJoin) LeftInput() Operator { return joinInput(j.pushLeft) }

// RightInput is the right table's input.
func (j *ForeignKeyJoin) RightInput() Operator { return joinInput(j.pushRight) }

func (j *ForeignKeyJoin) subKey(fk []byte, pk types.Value) ([]byte, error) {
	return funcs.EncodeValue(append([]byte(nil), fk...), j.LeftPKType, pk)
}

func (j *ForeignKeyJoin) subscribe(c *Context, fk types.Value, pk types.Value, on bool, ts int64) error {
	if fk == nil {
		return nil
	}
	f, err := j.encodeKey(fk)
	if err != nil {
		return err
	}
	k, err := j.subKey(f, pk)
	if err != nil {
		return err
	}
	kv, err := kvStore(c, j.subs)
	if err != nil {
		return err
	}
	if on {
		return kv.Put(k, []byte{}, ts)
	}
	return kv.Delete(k, ts)
}

func (j *ForeignKeyJoin) pushLeft(c *Context, r *Row) error {
	pk, err := j.LeftPK(r)
	if err != nil || pk == nil {
		return err
	}
	key, err := funcs.EncodeValue(nil, j.LeftPKType, pk)
	if err != nil {
		return err
	}
	old, _, err := j.left.get(c, key)
	if err != nil {
		return err
	}
	if r.Tombstone {
		if old == nil {
			return nil
		}
		if err := j.left.put(c, key, nil, r.Timestamp); err != nil {
			return err
		}
		if err := j.subscribe(c, evalKey(c, &j.Left, &Row{Cols: old}), pk, false, r.Timestamp); err != nil {
			return err
		}
		return j.emit(c, nil, pk, r, r.Timestamp)
	}
	if err := j.left.put(c, key, r.Cols, r.Timestamp); err != nil {
		return err
	}
	fk := evalKey(c, &j.Left, r)
	if old != nil {
		oldFK := evalKey(c, &j.Left, &Row{Cols: old})
		if oldFK != nil && !types.Equal(oldFK, fk) {
			if err := j.subscribe(c, oldFK, pk, false, r.Timestamp); err != nil {
				return err
			}
		}
	}
	var right []types.Value
	if fk != nil {
		if err := j.subscribe(c, fk, pk, true, r.Timestamp); err != nil {
			return err
		}
		f, err := j.encodeKey(fk)
		if err != nil {
			return err
		}
		if right, _, err = j.right.get(c, f); err != nil {
			return err
		}
	}
	switch {
	case right != nil || j.Type == LeftJoin:
		return j.emit(c, j.joined(r.Cols, right, pk, r, r.Timestamp), pk, r, r.Timestamp)
	case old != nil:
		return j.emit(c, nil, pk, r, r.Timestamp)
	}
	return nil
}

func (j *ForeignKeyJoin) pushRight(c *Context, r *Row) error {
	k := evalKey(c, &j.Right, r)
	if k == nil {
		return nil
	}
	f, err := j.encodeKey(k)
	if err != nil {
		return err
	}
	// Every right change, a delete of a key that had no row included,
	// reaches the left rows pointing at the key (Kafka Streams forwards
	// every change of a table source).
	var cur []types.Value
	if !r.Tombstone {
		cur = r.Cols
	}
	if err := j.right.put(c, f, cur, r.Timestamp); err != nil {
		return err
	}
	kv, err := kvStore(c, j.subs)
	if err != nil {
		return err
	}
	var pks []types.Value
	err = kv.Prefix(f, func(key, _ []byte, _ int64) bool {
		v, _, err2 := funcs.DecodeValue(key[len(f):], j.LeftPKType)
		if err2 != nil {
			err = err2
			return false
		}
		pks = append(pks, v)
		return true
	})
	if err != nil {
		return err
	}
	for _, pk := range pks {
		key, err := funcs.EncodeValue(nil, j.LeftPKType, pk)
		if err != nil {
			return err
		}
		left, _, err := j.left.get(c, key)
		if err != nil {
			return err
		}
		if left == nil {
			continue
		}
		var out *Row
		if cur != nil || j.Type == LeftJoin {
			out = j.joined(left, cur, pk, r, r.Timestamp)
		}
		if err := j.emit(c, out, pk, r, r.Timestamp); err != nil {
			return err
		}
	}
	return nil
}

// emit forwards a result; nil is a delete of the left key pk.
func (j *ForeignKeyJoin) emit(c *Context, row *Row, pk types.Value, meta *Row, ts int64) error {
	if row != nil && j.Where != nil && !passes(c, j.Where, row) {
		row = nil
	}
	if row == nil {
		return j.Next.Push(c, j.tombstone(pk, meta, ts))
	}
	return j.Next.Push(c, row)
}
