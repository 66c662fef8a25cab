package rules

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"

	sqltypes "github.com/sluicedata/sluice/sql/types"
)

// Defaults of the sandbox.
const (
	// DefaultCostLimit bounds the CEL cost (roughly the operations) of one
	// evaluation.
	DefaultCostLimit = 1_000_000
	// DefaultTimeout bounds the time of one rule on one record (all its
	// fields for CEL_FIELD). The cost limit is the deterministic bound;
	// the timeout is a backstop, generous so that a loaded machine never
	// fails a rule that would pass.
	DefaultTimeout = time.Second
	// maxPrograms bounds the compiled-program cache.
	maxPrograms = 1024
	// maxTagEntries bounds the field-tags cache.
	maxTagEntries = 100_000
)

// Executor compiles and runs rules. It is safe for concurrent use; compiled
// programs are cached by rule type and expression.
type Executor struct {
	costLimit uint64
	timeout   time.Duration
	dlq       DeadLetterWriter
	logger    *slog.Logger

	msgEnv, fieldEnv *cel.Env

	mu       sync.Mutex
	programs map[progKey]cel.Program

	tags     sync.Map // tagKey -> []string
	tagCount atomic.Int64
}

type progKey struct{ typ, expr string }

// Option configures an Executor.
type Option func(*Executor)

// WithCostLimit sets the CEL cost limit of one evaluation (default
// DefaultCostLimit). An expression over the limit fails its rule.
func WithCostLimit(n uint64) Option { return func(e *Executor) { e.costLimit = n } }

// WithTimeout sets the time limit of one rule on one record (default
// DefaultTimeout).
func WithTimeout(d time.Duration) Option { return func(e *Executor) { e.timeout = d } }

// WithDeadLetterWriter sets where DLQ actions send records. Without one a
// DLQ action fails with an error saying so.
func WithDeadLetterWriter(w DeadLetterWriter) Option { return func(e *Executor) { e.dlq = w } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(e *Executor) { e.logger = l } }

// NewExecutor returns an executor of CEL and CEL_FIELD rules.
func NewExecutor(opts ...Option) (*Executor, error) {
	e := &Executor{costLimit: DefaultCostLimit, timeout: DefaultTimeout,
		logger: slog.New(slog.NewTextHandler(io.Discard, nil)), programs: map[progKey]cel.Program{}}
	for _, o := range opts {
		o(e)
	}
	var err error
	if e.msgEnv, err = cel.NewEnv(cel.Variable("message", cel.DynType)); err != nil {
		return nil, err
	}
	e.fieldEnv, err = cel.NewEnv(
		cel.Variable("message", cel.DynType),
		cel.Variable("name", cel.StringType),
		cel.Variable("fullName", cel.StringType),
		cel.Variable("typeName", cel.StringType),
		cel.Variable("value", cel.DynType),
		cel.Variable("tags", cel.ListType(cel.StringType)),
	)
	if err != nil {
		return nil, err
	}
	return e, nil
}

// Target describes the record the rules run on.
type Target struct {
	Subject  string
	Topic    string
	Key      bool // the record key rather than the value
	SchemaID int
	// RootName is the name of the top-level record or message; field full
	// names are RootName.field.subfield.
	RootName string
	Type     sqltypes.Type
	RuleSet  *RuleSet
	Metadata *Metadata
	// DeadLetter returns the bytes a DLQ action writes as the record value:
	// the message as JSON when writing, the bytes as received when reading.
	DeadLetter func() []byte
}

// HasRules tells whether any domain rule of rs runs in the direction.
func HasRules(rs *RuleSet, write bool) bool {
	if rs == nil {
		return false
	}
	for i := range rs.DomainRules {
		if rs.DomainRules[i].appliesTo(write) {
			return true
		}
	}
	return false
}

// Write runs the WRITE and WRITEREAD domain rules on v before it is
// serialized and returns v as transformed. A failing rule returns an *Error
// (wrapping ErrDeadLettered when a DLQ action took the record).
func (e *Executor) Write(ctx context.Context, tg Target, v sqltypes.Value) (sqltypes.Value, error) {
	return e.run(ctx, tg, v, true)
}

// Read runs the READ and WRITEREAD domain rules, in reverse order, on a
// deserialized v.
func (e *Executor) Read(ctx context.Context, tg Target, v sqltypes.Value) (sqltypes.Value, error) {
	return e.run(ctx, tg, v, false)
}

func (e *Executor) run(ctx context.Context, tg Target, v sqltypes.Value, write bool) (sqltypes.Value, error) {
	if !HasRules(tg.RuleSet, write) || v == nil {
		return v, nil
	}
	rs := tg.RuleSet.DomainRules
	for i := range rs {
		r := &rs[i]
		if !write {
			r = &rs[len(rs)-1-i]
		}
		if !r.appliesTo(write) {
			continue
		}
		nv, err := e.runRule(ctx, tg, r, v)
		if err == nil {
			if a := r.action(r.OnSuccess, ActionNone, write); a != ActionNone {
				if err := e.act(ctx, tg, r, a, write, errors.New("rule succeeded and its onSuccess action is "+a)); err != nil {
					return nil, err
				}
			}
			v = nv
			continue
		}
		a := r.action(r.OnFailure, ActionError, write)
		if a == ActionNone {
			e.logger.Debug("data contract rule failed, onFailure NONE", "rule", r.Name, "subject", tg.Subject, "err", err)
			continue
		}
		return nil, e.act(ctx, tg, r, a, write, err)
	}
	return v, nil
}

// act carries out an ERROR or DLQ action and returns the rule's error.
func (e *Executor) act(ctx context.Context, tg Target, r *Rule, action string, write bool, cause error) error {
	rerr := &Error{Rule: r.Name, Kind: r.Kind, Type: r.Type, Mode: ModeRead, Subject: tg.Subject, Expr: r.Expr, Err: cause}
	if write {
		rerr.Mode = ModeWrite
	}
	switch action {
	case ActionError:
		return rerr
	case ActionDLQ:
		topic := r.Params[ParamDLQTopic]
		if topic == "" {
			rerr.Err = fmt.Errorf("%w; the DLQ action has no %s parameter", cause, ParamDLQTopic)
			return rerr
		}
		if e.dlq == nil {
			rerr.Err = fmt.Errorf("%w; no dead-letter writer is configured for the DLQ action", cause)
			return rerr
		}
		var value []byte
		if tg.DeadLetter != nil {
			value = tg.DeadLetter()
		}
		dl := DeadLetter{Topic: topic, Key: RecordKey(ctx), Value: value, Headers: []Header{
			{Key: HeaderRuleName, Value: []byte(r.Name)},
			{Key: HeaderRuleMode, Value: []byte(rerr.Mode)},
			{Key: HeaderRuleSubject, Value: []byte(tg.Subject)},
			{Key: HeaderRuleTopic, Value: []byte(tg.Topic)},
			{Key: HeaderRuleException, Value: []byte(cause.Error())},
		}}
		if err := e.dlq.WriteDeadLetter(ctx, dl); err != nil {
			rerr.Err = fmt.Errorf("%w; writing to dead-letter topic %q failed too: %v", cause, topic, err)
			return rerr
		}
		rerr.DLQTopic = topic
		return rerr
	}
	rerr.Err = fmt.Errorf("%w; unknown action %q", cause, action)
	return rerr
}

// runRule evaluates one rule on one record, within the timeout; for a
// TRANSFORM it returns the new value.
func (e *Executor) runRule(ctx context.Context, tg Target, r *Rule, v sqltypes.Value) (sqltypes.Value, error) {
	// The timeout starts once the programs are compiled (and cached):
	// it bounds evaluation only.
	withTimeout := func() (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, e.timeout) }
	switch r.Type {
	case TypeCEL:
		prg, err := e.program(TypeCEL, r.Expr)
		if err != nil {
			return nil, err
		}
		ctx, cancel := withTimeout()
		defer cancel()
		msg := toCEL(v)
		out, err := e.eval(ctx, prg, map[string]any{"message": msg})
		if err != nil {
			return nil, err
		}
		if r.Kind == KindCondition {
			return v, condition(out, r.Expr)
		}
		return fromCEL(tg.Type, out, tg.RootName)
	case TypeCELField:
		guard, body := splitGuard(r.Expr)
		var gprg cel.Program
		if guard != "" {
			var err error
			if gprg, err = e.program(TypeCELField, guard); err != nil {
				return nil, err
			}
		}
		prg, err := e.program(TypeCELField, body)
		if err != nil {
			return nil, err
		}
		ctx, cancel := withTimeout()
		defer cancel()
		msg := toCEL(v)
		return e.walk(tg, v, func(f fieldInfo, fv sqltypes.Value) (sqltypes.Value, error) {
			if len(r.Tags) > 0 && !anyTag(r.Tags, f.tags) {
				return fv, nil
			}
			vars := map[string]any{"message": msg, "name": f.name, "fullName": f.fullName,
				"typeName": f.typeName, "value": toCEL(fv), "tags": f.tags}
			if gprg != nil {
				g, err := e.eval(ctx, gprg, vars)
				if err != nil {
					return nil, fmt.Errorf("field %s: guard: %w", f.fullName, err)
				}
				if b, ok := g.(types.Bool); !ok || !bool(b) {
					return fv, nil
				}
			}
			out, err := e.eval(ctx, prg, vars)
			if err != nil {
				return nil, fmt.Errorf("field %s: %w", f.fullName, err)
			}
			if r.Kind == KindCondition {
				if err := condition(out, body); err != nil {
					return nil, fmt.Errorf("field %s: %w", f.fullName, err)
				}
				return fv, nil
			}
			nv, err := fromCEL(f.t, out, f.fullName)
			if err != nil {
				return nil, fmt.Errorf("field %s: %w", f.fullName, err)
			}
			return nv, nil
		})
	}
	return nil, fmt.Errorf("no executor for rule type %q (Sluice runs CEL and CEL_FIELD)", r.Type)
}

func condition(out ref.Val, expr string) error {
	b, ok := out.(types.Bool)
	if !ok {
		return fmt.Errorf("condition %q returned %s, not a bool", expr, out.Type().TypeName())
	}
	if !bool(b) {
		return fmt.Errorf("condition %q is false", expr)
	}
	return nil
}

// splitGuard splits a CEL_FIELD expression "guard ; body" at its first
// semicolon outside string literals. Without one, the guard is empty.
func splitGuard(expr string) (guard, body string) {
	var quote byte
	for i := 0; i < len(expr); i++ {
		c := expr[i]
		switch {
		case quote != 0 && c == '\\':
			i++
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == '\'' || c == '"'):
			quote = c
		case quote == 0 && c == ';':
			return strings.TrimSpace(expr[:i]), strings.TrimSpace(expr[i+1:])
		}
	}
	return "", strings.TrimSpace(expr)
}

func anyTag(want, have []string) bool {
	for _, w := range want {
		for _, h := range have {
			if w == h {
				return true
			}
		}
	}
	return false
}

// program compiles expr (cached).
func (e *Executor) program(typ, expr string) (cel.Program, error) {
	k := progKey{typ, expr}
	e.mu.Lock()
	p, ok := e.programs[k]
	e.mu.Unlock()
	if ok {
		return p, nil
	}
	env := e.msgEnv
	if typ == TypeCELField {
		env = e.fieldEnv
	}
	ast, iss := env.Compile(expr)
	if iss.Err() != nil {
		return nil, fmt.Errorf("compile %q: %w", expr, iss.Err())
	}
	p, err := env.Program(ast, cel.CostLimit(e.costLimit), cel.InterruptCheckFrequency(64))
	if err != nil {
		return nil, fmt.Errorf("compile %q: %w", expr, err)
	}
	e.mu.Lock()
	if len(e.programs) >= maxPrograms {
		clear(e.programs)
	}
	e.programs[k] = p
	e.mu.Unlock()
	return p, nil
}

func (e *Executor) eval(ctx context.Context, prg cel.Program, vars map[string]any) (ref.Val, error) {
	out, _, err := prg.ContextEval(ctx, vars)
	if err != nil {
		return nil, err
	}
	if types.IsError(out) {
		return nil, fmt.Errorf("%v", out)
	}
	return out, nil
}

// CheckExpressions compiles the expressions of the CEL and CEL_FIELD rules
// of rs (both parts of a "guard ; body"), so that a registry can refuse a
// rule that every client would fail on. Rules of other types are not
// looked at.
func (e *Executor) CheckExpressions(rs *RuleSet) error {
	if rs == nil {
		return nil
	}
	for _, group := range [][]Rule{rs.MigrationRules, rs.DomainRules, rs.EncodingRules} {
		for _, r := range group {
			var exprs []string
			switch r.Type {
			case TypeCEL:
				exprs = []string{r.Expr}
			case TypeCELField:
				g, b := splitGuard(r.Expr)
				exprs = []string{b}
				if g != "" {
					exprs = append(exprs, g)
				}
			}
			for _, x := range exprs {
				if strings.TrimSpace(x) == "" {
					return fmt.Errorf("rule %q has no expression", r.Name)
				}
				if _, err := e.program(r.Type, x); err != nil {
					return fmt.Errorf("rule %q: %w", r.Name, err)
				}
			}
		}
	}
	return nil
}
