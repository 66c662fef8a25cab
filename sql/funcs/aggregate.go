package funcs

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/sluicedata/sluice/sql/types"
)

// AggImpl builds the aggregator of an aggregate variant for one binding. It
// runs once per call site and may reject literal arguments (TOPK's k < 1).
type AggImpl func(c AggContext) (*Aggregator, error)

// AggContext is what an AggImpl is built from.
type AggContext struct {
	// In are the types of the input (non-literal) arguments after widening.
	In []types.Type
	// Literals are the values of the literal parameters, in order,
	// converted to their parameter types.
	Literals []types.Value
	// Out is the result type.
	Out    types.Type
	Config AggregateConfig
}

// Aggregator is the implementation of one bound aggregate. States are
// values of the State type (ksqlDB's intermediate type), so one codec
// serializes every aggregate's state. Add, Retract and Merge may modify
// the states they are given and return the new state.
type Aggregator struct {
	State   types.Type
	Init    func() types.Value
	Add     func(s types.Value, in []types.Value) (types.Value, error)
	Retract func(s types.Value, in []types.Value) (types.Value, error) // nil: stream only
	Merge   func(a, b types.Value) (types.Value, error)
	Result  func(s types.Value) (types.Value, error)
	// Sequence: Add and Retract take one more input, the record's position
	// (BIGINT), after the arguments.
	Sequence bool
}

// AggregateConfig holds ksqlDB's configuration of the aggregate functions.
type AggregateConfig struct {
	// CollectListLimit is ksql.functions.collect_list.limit: COLLECT_LIST
	// ignores values beyond it.
	CollectListLimit int
	// CollectSetLimit is ksql.functions.collect_set.limit.
	CollectSetLimit int
}

// Configuration keys read by ParseAggregateConfig.
const (
	CollectListLimitKey = "ksql.functions.collect_list.limit"
	CollectSetLimitKey  = "ksql.functions.collect_set.limit"
)

// DefaultAggregateConfig is ksqlDB's default: 1000 entries for both.
func DefaultAggregateConfig() AggregateConfig {
	return AggregateConfig{CollectListLimit: 1000, CollectSetLimit: 1000}
}

// ParseAggregateConfig reads the ksql.functions.* properties from props
// over the defaults; other keys are ignored.
func ParseAggregateConfig(props map[string]string) (AggregateConfig, error) {
	c := DefaultAggregateConfig()
	for key, dst := range map[string]*int{CollectListLimitKey: &c.CollectListLimit, CollectSetLimitKey: &c.CollectSetLimit} {
		v, ok := props[key]
		if !ok {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 {
			return c, fmt.Errorf("%s must be a non-negative integer, not %q", key, v)
		}
		*dst = n
	}
	return c, nil
}

// SetAggregateConfig sets the configuration used by later ResolveAggregate
// calls. Call it before sharing the registry between goroutines.
func (r *Registry) SetAggregateConfig(c AggregateConfig) { r.agg = c }

// ErrNotOnTables is wrapped by Retract for aggregates that ksqlDB does not
// allow on a table source (they cannot undo a value).
var ErrNotOnTables = errors.New("cannot be applied to a table source, only to a stream source")

// Aggregate is an aggregate function call bound to one variant. It holds no
// per-group data: each group's state is a value that the caller keeps and
// passes in, so one Aggregate serves every group and is safe for concurrent
// use on different states.
//
// Inputs: Add and Retract take the values of the non-literal arguments in
// call order (Inputs lists their indexes among the call's arguments); when
// Sequence is set one more BIGINT follows, the record's position in its
// input: EARLIEST_BY_OFFSET and LATEST_BY_OFFSET order by it. The engine
// passes a number that grows with the records it reads (the offset within
// one partition, or a counter per task), as ksqlDB does with its sequence.
type Aggregate struct {
	Function *Function
	Variant  *Variant
	// ArgTypes are the call's argument types, ParamTypes the types they are
	// converted to.
	ArgTypes   []types.Type
	ParamTypes []types.Type
	// Literals holds the values of the literal arguments (nil elsewhere).
	Literals []types.Value
	Inputs   []int
	// State is the intermediate type (what the changelog stores) and
	// Result the type of the function's value.
	State    types.Type
	Result   types.Type
	Sequence bool
	impl     *Aggregator
	coerce   []bool // per input
	inTypes  []types.Type
	argTypes []types.Type // per input, before widening
}

// ResolveAggregate binds an aggregate call. argTypes are the types of all
// the call's arguments (none for COUNT(*)); literals, when not nil, has one
// entry per argument and holds the value of each constant argument: the
// parameters marked Literal (TOPK's k, LATEST_BY_OFFSET's n and
// ignoreNulls) must get one.
func (r *Registry) ResolveAggregate(name string, argTypes []types.Type, literals []types.Value) (*Aggregate, error) {
	f, ok := r.Lookup(name)
	if !ok {
		return nil, fmt.Errorf("can't find any functions with the name '%s'", strings.ToUpper(name))
	}
	if f.Kind != AggregateFunction {
		return nil, fmt.Errorf("function %s is not an aggregate function", f.Name)
	}
	if literals != nil && len(literals) != len(argTypes) {
		return nil, fmt.Errorf("function %s: %d literal slots for %d arguments", f.Name, len(literals), len(argTypes))
	}
	args := make([]Arg, len(argTypes))
	for i, t := range argTypes {
		args[i] = Arg{Type: t}
	}
	bd, err := bind(f, args)
	if err != nil {
		return nil, err
	}
	a := &Aggregate{Function: f, Variant: bd.Variant, ArgTypes: bd.ArgTypes, ParamTypes: bd.ParamTypes,
		Literals: make([]types.Value, len(argTypes)), Result: bd.Result}
	ctx := AggContext{Out: bd.Result, Config: r.agg}
	for i := range argTypes {
		p := bd.Variant.Params[min(i, len(bd.Variant.Params)-1)]
		if !p.Literal {
			a.Inputs = append(a.Inputs, i)
			a.inTypes = append(a.inTypes, bd.ParamTypes[i])
			a.argTypes = append(a.argTypes, bd.ArgTypes[i])
			a.coerce = append(a.coerce, bd.coerce[i])
			continue
		}
		var lit types.Value
		if literals != nil {
			lit = literals[i]
		}
		if lit == nil {
			return nil, fmt.Errorf("function %s: argument %d (%s) must be a non-NULL literal", f.Name, i+1, p.Name)
		}
		if bd.coerce[i] {
			if lit, err = Cast(lit, bd.ArgTypes[i], bd.ParamTypes[i]); err != nil {
				return nil, fmt.Errorf("function %s: argument %d (%s): %w", f.Name, i+1, p.Name, err)
			}
		}
		a.Literals[i] = lit
		ctx.Literals = append(ctx.Literals, lit)
	}
	ctx.In = a.inTypes
	impl, err := bd.Variant.Agg(ctx)
	if err != nil {
		return nil, fmt.Errorf("function %s: %w", f.Name, err)
	}
	a.impl, a.State, a.Sequence = impl, impl.State, impl.Sequence
	return a, nil
}

// Retractable reports whether the aggregate can undo a value, which a
// table aggregation needs when a row changes or is deleted.
func (a *Aggregate) Retractable() bool { return a.impl.Retract != nil }

// CheckTableSource returns ksqlDB's error for an aggregate that cannot
// aggregate a table, nil when it can.
func (a *Aggregate) CheckTableSource() error {
	if a.Retractable() {
		return nil
	}
	return fmt.Errorf("the aggregation function %s %w", a.Function.Name, ErrNotOnTables)
}

// Init returns the state of an empty group.
func (a *Aggregate) Init() types.Value { return a.impl.Init() }

func (a *Aggregate) inputs(op string, in []types.Value) ([]types.Value, error) {
	want := len(a.Inputs)
	if a.Sequence {
		want++
	}
	if len(in) != want {
		return nil, fmt.Errorf("function %s: %s takes %d values, got %d", a.Function.Name, op, want, len(in))
	}
	if a.Sequence {
		if _, ok := in[want-1].(int64); !ok {
			return nil, fmt.Errorf("function %s: %s: the sequence number must be a BIGINT, got %T", a.Function.Name, op, in[want-1])
		}
	}
	var conv []types.Value
	for i, c := range a.coerce {
		if !c || in[i] == nil {
			continue
		}
		if conv == nil {
			conv = make([]types.Value, len(in))
			copy(conv, in)
		}
		v, err := Cast(in[i], a.argTypes[i], a.inTypes[i])
		if err != nil {
			return nil, fmt.Errorf("function %s: argument %d: %w", a.Function.Name, a.Inputs[i]+1, err)
		}
		conv[i] = v
	}
	if conv != nil {
		return conv, nil
	}
	return in, nil
}

// badState turns a panic of an implementation into an error: a state read
// from a corrupt changelog record (a NULL where the state type has a
// number, say) must fail the record, not the process.
func (a *Aggregate) badState(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("function %s: invalid state: %v", a.Function.Name, r)
	}
}

// Add folds one row into s and returns the new state; s must not be used
// afterwards.
func (a *Aggregate) Add(s types.Value, in ...types.Value) (_ types.Value, err error) {
	defer a.badState(&err)
	in, err = a.inputs("Add", in)
	if err != nil {
		return s, err
	}
	out, err := a.impl.Add(s, in)
	if err != nil {
		return s, fmt.Errorf("function %s: %w", a.Function.Name, err)
	}
	return out, nil
}

// Retract undoes a row added before (a table row that changed or went
// away). Aggregates that cannot undo fail with an error wrapping
// ErrNotOnTables.
func (a *Aggregate) Retract(s types.Value, in ...types.Value) (_ types.Value, err error) {
	if a.impl.Retract == nil {
		return s, a.CheckTableSource()
	}
	defer a.badState(&err)
	in, err = a.inputs("Retract", in)
	if err != nil {
		return s, err
	}
	out, err := a.impl.Retract(s, in)
	if err != nil {
		return s, fmt.Errorf("function %s: %w", a.Function.Name, err)
	}
	return out, nil
}

// Merge combines the states of two session windows that an out-of-order
// record joined: x is the earlier window. Both may be modified.
func (a *Aggregate) Merge(x, y types.Value) (_ types.Value, err error) {
	defer a.badState(&err)
	out, err := a.impl.Merge(x, y)
	if err != nil {
		return nil, fmt.Errorf("function %s: merge: %w", a.Function.Name, err)
	}
	return out, nil
}

// Value returns the function's result for state s, of type Result.
func (a *Aggregate) Value(s types.Value) (_ types.Value, err error) {
	defer a.badState(&err)
	v, err := a.impl.Result(s)
	if err != nil {
		return nil, fmt.Errorf("function %s: %w", a.Function.Name, err)
	}
	return v, nil
}
