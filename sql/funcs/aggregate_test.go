package funcs

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/sluicedata/sluice/sql/types"
)

// The aggregate fixtures under testdata/aggregate/*.txt hold one case per
// line:
//
//	NAME(ARG, ...): STEP STEP ... => EXPECTED [:: TYPE]
//	NAME(ARG, ...): STEP ... => ERROR 'text in the error'
//
// Each ARG is a type (the type of a column argument) or a literal (a
// constant argument such as TOPK's k). A STEP is add(v, ...) or
// retract(v, ...) with the column values, or | which starts a second
// state (a second session window): at the end the states are merged left
// to right and EXPECTED is the result of the merged state. Values are in
// the language of the scalar fixtures and are converted to the column
// types. Aggregates that take the hidden sequence input (the *_BY_OFFSET
// functions) get 1, 2, 3... in the order the add steps are written.
//
// After every step the runner serializes the state, reads it back,
// checks that the bytes are stable and that the state fits its declared
// type, and goes on with the state read back, so every case also tests
// the state codec. testdata/aggregate/state.golden holds the bytes of
// every case's final state: a change of format fails here. Run
// `go test ./sql/funcs -run TestAggregateFixtures -rewrite` to fill in
// `=> ?` cases and the golden file.

const aggGolden = "testdata/aggregate/state.golden"

type aggCase struct {
	name  string
	sig   []string
	steps []aggStep
}

type aggStep struct {
	op   string // add, retract or |
	args []string
}

// splitTop splits s at sep outside parentheses, brackets and quotes.
func splitTop(s string, sep byte) []string {
	var out []string
	depth, quote, start := 0, false, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'':
			quote = !quote
		case quote:
		case c == '(' || c == '[' || c == '<':
			depth++
		case c == ')' || c == ']' || c == '>':
			depth--
		case c == sep && depth == 0:
			out = append(out, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
	}
	if rest := strings.TrimSpace(s[start:]); rest != "" || len(out) > 0 {
		out = append(out, rest)
	}
	return out
}

func parseAggCase(call string) (aggCase, error) {
	var c aggCase
	open := strings.IndexByte(call, '(')
	if open < 0 {
		return c, fmt.Errorf("no argument list")
	}
	c.name = strings.TrimSpace(call[:open])
	sigEnd := -1
	depth := 0
	for i := open; i < len(call); i++ {
		switch call[i] {
		case '(':
			depth++
		case ')':
			depth--
		}
		if depth == 0 {
			sigEnd = i
			break
		}
	}
	if sigEnd < 0 || !strings.HasPrefix(call[sigEnd+1:], ":") {
		return c, fmt.Errorf("want NAME(ARGS): STEPS")
	}
	c.sig = splitTop(call[open+1:sigEnd], ',')
	rest := strings.TrimSpace(call[sigEnd+2:])
	for rest != "" {
		if strings.HasPrefix(rest, "|") {
			c.steps = append(c.steps, aggStep{op: "|"})
			rest = strings.TrimSpace(rest[1:])
			continue
		}
		op, after, ok := strings.Cut(rest, "(")
		if !ok || (op != "add" && op != "retract") {
			return c, fmt.Errorf("bad step at %q", rest)
		}
		depth, end := 1, -1
		quote := false
		for i := 0; i < len(after) && end < 0; i++ {
			switch ch := after[i]; {
			case ch == '\'':
				quote = !quote
			case quote:
			case ch == '(' || ch == '[':
				depth++
			case ch == ')' || ch == ']':
				depth--
				if depth == 0 {
					end = i
				}
			}
		}
		if end < 0 {
			return c, fmt.Errorf("unclosed step %q", rest)
		}
		c.steps = append(c.steps, aggStep{op: op, args: splitTop(after[:end], ',')})
		rest = strings.TrimSpace(after[end+1:])
	}
	return c, nil
}

// aggRun is the outcome of one case.
type aggRun struct {
	agg   *Aggregate
	state types.Value
	got   expr
}

func runAggCase(reg *Registry, call string) (aggRun, error) {
	var r aggRun
	c, err := parseAggCase(call)
	if err != nil {
		return r, err
	}
	argTypes := make([]types.Type, len(c.sig))
	lits := make([]types.Value, len(c.sig))
	for i, s := range c.sig {
		if t, err := types.Parse(s); err == nil {
			argTypes[i] = t
			continue
		}
		e, err := (&exprParser{reg: reg, src: s, seen: map[string]bool{}}).expr(false)
		if err != nil {
			return r, fmt.Errorf("argument %d: %v", i+1, err)
		}
		argTypes[i], lits[i] = e.t, e.v
	}
	a, err := reg.ResolveAggregate(c.name, argTypes, lits)
	if err != nil {
		return r, err
	}
	r.agg = a
	states := []types.Value{a.Init()}
	var seq int64
	for _, st := range c.steps {
		if st.op == "|" {
			states = append(states, a.Init())
			continue
		}
		in := make([]types.Value, len(st.args))
		for i, s := range st.args {
			e, err := (&exprParser{reg: reg, src: s, seen: map[string]bool{}}).expr(false)
			if err != nil {
				return r, fmt.Errorf("value %q: %v", s, err)
			}
			if i < len(a.Inputs) && e.v != nil {
				if e.v, err = Cast(e.v, e.t, a.ArgTypes[a.Inputs[i]]); err != nil {
					return r, fmt.Errorf("value %q: %v", s, err)
				}
			}
			in[i] = e.v
		}
		if a.Sequence {
			seq++
			in = append(in, seq)
		}
		s := states[len(states)-1]
		if st.op == "add" {
			s, err = a.Add(s, in...)
		} else {
			s, err = a.Retract(s, in...)
		}
		if err != nil {
			return r, err
		}
		if s, err = roundTrip(a, s); err != nil {
			return r, err
		}
		states[len(states)-1] = s
	}
	s := states[0]
	for _, o := range states[1:] {
		if s, err = a.Merge(s, o); err != nil {
			return r, err
		}
		if s, err = roundTrip(a, s); err != nil {
			return r, err
		}
	}
	r.state = s
	v, err := a.Value(s)
	if err != nil {
		return r, err
	}
	if err := types.Check(a.Result, v); err != nil {
		return r, fmt.Errorf("result %s does not fit %s: %v", show(v), a.Result, err)
	}
	r.got = expr{a.Result, v}
	return r, nil
}

// roundTrip serializes s, reads it back and checks the bytes are stable.
func roundTrip(a *Aggregate, s types.Value) (types.Value, error) {
	if err := types.Check(a.State, s); err != nil {
		return nil, fmt.Errorf("state %s does not fit %s: %v", show(s), a.State, err)
	}
	b, err := a.MarshalState(s)
	if err != nil {
		return nil, err
	}
	back, err := a.UnmarshalState(b)
	if err != nil {
		return nil, err
	}
	b2, err := a.MarshalState(back)
	if err != nil {
		return nil, err
	}
	if string(b) != string(b2) {
		return nil, fmt.Errorf("state bytes changed in a round trip: %x then %x", b, b2)
	}
	return back, nil
}

// runAggFixtures runs testdata/aggregate/*.txt, checks the golden state
// bytes and returns the aggregates that have cases.
func runAggFixtures(t *testing.T, reg *Registry) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	files, _ := filepath.Glob("testdata/aggregate/*.txt")
	if len(files) == 0 {
		t.Fatal("no aggregate fixtures")
	}
	golden := map[string]string{}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(data), "\n")
		changed := false
		for i, raw := range lines {
			text := strings.TrimSpace(raw)
			if text == "" || strings.HasPrefix(text, "#") {
				continue
			}
			where := fmt.Sprintf("%s:%d: %s", filepath.Base(file), i+1, text)
			call, want, ok := strings.Cut(text, " => ")
			if !ok {
				t.Errorf("%s: no ' => '", where)
				continue
			}
			if name, _, ok := strings.Cut(call, "("); ok {
				seen[strings.ToUpper(strings.TrimSpace(name))] = true
			}
			r, gotErr := runAggCase(reg, call)
			if gotErr == nil {
				b, err := r.agg.MarshalState(r.state)
				if err != nil {
					t.Errorf("%s: %v", where, err)
				}
				golden[call] = hex.EncodeToString(b)
			}
			msg := checkCase(reg, r.got, gotErr, want)
			if *rewrite && (msg != "" || strings.TrimSpace(want) == "?") {
				lines[i] = call + " => " + renderResult(r.got, gotErr, want)
				changed = true
				continue
			}
			if msg != "" {
				t.Errorf("%s: %s", where, msg)
			}
		}
		if changed {
			if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	keys := make([]string, 0, len(golden))
	for k := range golden {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("# Final state bytes (hex) of every aggregate fixture case; see aggregate_test.go.\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "%s => %s\n", k, golden[k])
	}
	if *rewrite {
		if err := os.WriteFile(aggGolden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	} else if old, err := os.ReadFile(aggGolden); err != nil || string(old) != b.String() {
		t.Errorf("%s differs from the state bytes of the fixtures: the state format changed (or cases did); run with -rewrite and review the diff", aggGolden)
	}
	return seen
}

func TestAggregateFixtures(t *testing.T) {
	reg := New()
	seen := runAggFixtures(t, reg)
	for _, f := range reg.Functions() {
		if f.Kind == AggregateFunction && !seen[f.Name] {
			t.Errorf("aggregate %s has no case in testdata/aggregate/*.txt", f.Name)
		}
	}
}

func TestAggregateTableSupport(t *testing.T) {
	// ksqlDB's aggregate reference: which aggregates apply to tables.
	onTables := map[string]bool{"ATTR": true, "AVG": true, "COLLECT_LIST": true, "CORRELATION": true,
		"COUNT": true, "HISTOGRAM": true, "STDDEV_SAMP": true, "STDDEV_SAMPLE": true, "SUM": true, "SUM_LIST": true}
	reg := New()
	for _, f := range reg.Functions() {
		if f.Kind != AggregateFunction {
			continue
		}
		for vi := range f.Variants {
			v := &f.Variants[vi]
			argTypes := make([]types.Type, len(v.Params))
			lits := make([]types.Value, len(v.Params))
			for i, p := range v.Params {
				at, ok := concreteFor(p.Type)
				if !ok {
					t.Fatalf("%s: no concrete type for %s", f.Name, p.Type)
				}
				argTypes[i] = at
				if p.Literal {
					lits[i] = samples(at)[3%len(samples(at))]
					if at.Kind == types.Boolean {
						lits[i] = false
					}
				}
			}
			a, err := reg.ResolveAggregate(f.Name, argTypes, lits)
			if err != nil {
				t.Errorf("%s%v: %v", f.Name, argTypes, err)
				continue
			}
			err = a.CheckTableSource()
			if onTables[f.Name] != (err == nil) {
				t.Errorf("%s: table source check gave %v, want supported=%v", f.Name, err, onTables[f.Name])
			}
			if err != nil {
				in := make([]types.Value, len(a.Inputs))
				if a.Sequence {
					in = append(in, int64(1))
				}
				if _, rerr := a.Retract(a.Init(), in...); !errors.Is(rerr, ErrNotOnTables) ||
					!strings.Contains(rerr.Error(), "the aggregation function "+f.Name+" cannot be applied to a table source") {
					t.Errorf("%s: Retract error %v", f.Name, rerr)
				}
			}
			// Every state type is encodable, and an empty state round-trips.
			if _, err := roundTrip(a, a.Init()); err != nil {
				t.Errorf("%s%v: %v", f.Name, argTypes, err)
			}
		}
	}
}

func TestAggregateBindErrors(t *testing.T) {
	reg := New()
	cases := []struct {
		name string
		args []types.Type
		lits []types.Value
		want string
	}{
		{"TOPK", []types.Type{types.IntType, types.IntType}, nil, "argument 2 (k) must be a non-NULL literal"},
		{"TOPK", []types.Type{types.IntType, types.IntType}, []types.Value{nil, int32(0)}, "k must be a positive integer"},
		{"LATEST_BY_OFFSET", []types.Type{types.IntType, types.IntType}, []types.Value{nil, int32(-1)}, "must be positive"},
		{"SUM", []types.Type{types.StringType}, nil, "does not accept parameters (STRING)"},
		{"HISTOGRAM", []types.Type{types.IntType}, nil, "does not accept parameters (INT)"},
		{"ABS", []types.Type{types.IntType}, nil, "is not an aggregate function"},
		{"NOPE", nil, nil, "can't find any functions with the name 'NOPE'"},
		{"SUM", []types.Type{types.IntType}, []types.Value{nil, nil}, "2 literal slots for 1 arguments"},
	}
	for _, c := range cases {
		_, err := reg.ResolveAggregate(c.name, c.args, c.lits)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s%v: got %v, want an error containing %q", c.name, c.args, err, c.want)
		}
	}
	if _, err := reg.Resolve("COUNT", []types.Type{types.IntType}); err == nil || !strings.Contains(err.Error(), "aggregate function") {
		t.Errorf("Resolve(COUNT): got %v", err)
	}
}

func TestAggregateCollectLimitConfig(t *testing.T) {
	cfg, err := ParseAggregateConfig(map[string]string{CollectListLimitKey: "2", "other": "x"})
	if err != nil || cfg.CollectListLimit != 2 || cfg.CollectSetLimit != 1000 {
		t.Fatalf("got %+v, %v", cfg, err)
	}
	if _, err := ParseAggregateConfig(map[string]string{CollectSetLimitKey: "-1"}); err == nil ||
		!strings.Contains(err.Error(), CollectSetLimitKey) {
		t.Fatalf("negative limit: %v", err)
	}
	reg := New()
	reg.SetAggregateConfig(cfg)
	a, err := reg.ResolveAggregate("COLLECT_LIST", []types.Type{types.IntType}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := a.Init()
	for i := range 5 {
		if s, err = a.Add(s, int32(i)); err != nil {
			t.Fatal(err)
		}
	}
	v, _ := a.Value(s)
	if !types.Equal(v, []types.Value{int32(0), int32(1)}) {
		t.Errorf("limit 2: got %v", v)
	}
}

func TestCountDistinctIsClose(t *testing.T) {
	a, err := New().ResolveAggregate("COUNT_DISTINCT", []types.Type{types.BigintType}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{10, 1000, 50000} {
		s := a.Init()
		for i := range n {
			for range 2 { // duplicates do not count
				if s, err = a.Add(s, int64(i)*7919); err != nil {
					t.Fatal(err)
				}
			}
		}
		v, _ := a.Value(s)
		got := float64(v.(int64))
		if rel := (got - float64(n)) / float64(n); rel > 0.05 || rel < -0.05 {
			t.Errorf("COUNT_DISTINCT of %d values = %v (%.1f%% off)", n, got, rel*100)
		}
	}
}

func TestUnmarshalStateRejectsBadBytes(t *testing.T) {
	a, err := New().ResolveAggregate("AVG", []types.Type{types.IntType}, nil)
	if err != nil {
		t.Fatal(err)
	}
	good, _ := a.MarshalState(a.Init())
	for name, b := range map[string][]byte{
		"empty":     nil,
		"version":   append([]byte{9}, good[1:]...),
		"truncated": good[:len(good)-1],
		"trailing":  append(append([]byte{}, good...), 0),
	} {
		if _, err := a.UnmarshalState(b); err == nil || !strings.Contains(err.Error(), "AVG: state") {
			t.Errorf("%s: got %v", name, err)
		}
	}
}

func TestShowAndDescribeAggregates(t *testing.T) {
	reg := New()
	found := false
	for _, s := range reg.List() {
		if s.Name == "TOPK" {
			found = s.Kind == AggregateFunction && s.Category == CatAggregate
		}
	}
	if !found {
		t.Error("SHOW FUNCTIONS lacks TOPK as an AGGREGATE function")
	}
	d, err := reg.Describe("latest_by_offset")
	if err != nil {
		t.Fatal(err)
	}
	out := d.String()
	for _, want := range []string{"Type        : AGGREGATE", "LATEST_BY_OFFSET(col1 T, latestN INT, ignoreNulls BOOLEAN)", "Returns     : ARRAY<T>"} {
		if !strings.Contains(out, want) {
			t.Errorf("DESCRIBE FUNCTION LATEST_BY_OFFSET lacks %q:\n%s", want, out)
		}
	}
}

// One Aggregate serves every group: concurrent use on distinct states is
// safe (run with -race).
func TestAggregateConcurrentGroups(t *testing.T) {
	a, err := New().ResolveAggregate("COLLECT_LIST", []types.Type{types.IntType}, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan types.Value)
	for g := range 4 {
		go func() {
			s := a.Init()
			for i := range 100 {
				s, _ = a.Add(s, int32(g*1000+i))
			}
			v, _ := a.Value(s)
			done <- v
		}()
	}
	for range 4 {
		if v := <-done; len(v.([]types.Value)) != 100 {
			t.Errorf("group has %d values, want 100", len(v.([]types.Value)))
		}
	}
}

func TestCorruptStateIsAnError(t *testing.T) {
	a, err := New().ResolveAggregate("AVG", []types.Type{types.IntType}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A NULL COUNT inside AVG's state: decodable, but not a state AVG makes.
	s, err := a.UnmarshalState([]byte{1, 1, 1, 2, 0})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Add(s, int32(1)); err == nil || !strings.Contains(err.Error(), "AVG: invalid state") {
		t.Errorf("Add on a corrupt state: got %v", err)
	}
}

// aggSamples are the sample values of t of moderate size: no NaN or
// infinities (which make every later sum NaN), and no numbers whose
// squares lose digits in a DOUBLE (undoing them cannot be exact) or whose
// sum overflows DECIMAL(4, 2).
func aggSamples(t types.Type) []types.Value {
	if t.Kind == types.Array {
		es := aggSamples(*t.Elem)
		return []types.Value{[]types.Value{}, []types.Value{es[0], nil, es[len(es)-1]}, []types.Value{es[1]}}
	}
	var out []types.Value
	for _, v := range samples(t) {
		var f float64
		switch x := v.(type) {
		case float64:
			f = x
		case int32:
			f = float64(x)
		case int64:
			f = float64(x)
		case types.Dec:
			f = x.Float64() * 2e4 // keeps |x| < 50
		}
		if f != f || f > 1e6 || f < -1e6 {
			continue
		}
		out = append(out, v)
	}
	return out
}

func closeEnough(got, want types.Value) bool {
	g, ok1 := got.(float64)
	w, ok2 := want.(float64)
	if ok1 && ok2 {
		return g == w || g != g && w != w || (g-w) <= 1e-6*max(1, w, -w) && (w-g) <= 1e-6*max(1, w, -w)
	}
	return types.Equal(got, want) || approxEqual(got, want)
}

// Laws every aggregate keeps, over sample values of every variant:
// merging the states of two halves of the rows gives the result of adding
// them all to one state, and for table aggregates retracting a row undoes
// adding it.
func TestAggregateLaws(t *testing.T) {
	reg := New()
	for _, f := range reg.Functions() {
		if f.Kind != AggregateFunction {
			continue
		}
		for vi := range f.Variants {
			v := &f.Variants[vi]
			argTypes := make([]types.Type, len(v.Params))
			lits := make([]types.Value, len(v.Params))
			for i, p := range v.Params {
				argTypes[i], _ = concreteFor(p.Type)
				switch {
				case p.Literal && argTypes[i].Kind == types.Int:
					lits[i] = int32(2)
				case p.Literal:
					lits[i] = false
				}
			}
			a, err := reg.ResolveAggregate(f.Name, argTypes, lits)
			if err != nil {
				t.Fatalf("%s%v: %v", f.Name, argTypes, err)
			}
			var rows [][]types.Value
			cols := make([][]types.Value, len(a.Inputs))
			n := 0
			for i, ix := range a.Inputs {
				cols[i] = aggSamples(a.ParamTypes[ix])
				n = max(n, len(cols[i]))
			}
			if len(a.Inputs) == 0 {
				n = 5
			}
			for r := range n {
				row := make([]types.Value, 0, len(cols)+1)
				for _, c := range cols {
					row = append(row, c[r%len(c)])
				}
				if a.Sequence {
					row = append(row, int64(r+1))
				}
				rows = append(rows, row)
			}
			fold := func(rs [][]types.Value) types.Value {
				s := a.Init()
				for _, r := range rs {
					if s, err = a.Add(s, r...); err != nil {
						t.Fatalf("%s%v add %v: %v", f.Name, argTypes, r, err)
					}
				}
				return s
			}
			result := func(s types.Value) types.Value {
				out, err := a.Value(s)
				if err != nil {
					t.Fatalf("%s%v: %v", f.Name, argTypes, err)
				}
				return out
			}
			want := result(fold(rows))
			half := len(rows) / 2
			merged, err := a.Merge(fold(rows[:half]), fold(rows[half:]))
			if err != nil {
				t.Fatalf("%s%v merge: %v", f.Name, argTypes, err)
			}
			if got := result(merged); !closeEnough(got, want) {
				t.Errorf("%s%v: merge of halves = %s, adding all = %s", f.Name, argTypes, show(got), show(want))
			}
			if !a.Retractable() {
				continue
			}
			s := fold(rows)
			for _, r := range rows[half:] {
				if s, err = a.Retract(s, r...); err != nil {
					t.Fatalf("%s%v retract %v: %v", f.Name, argTypes, r, err)
				}
			}
			if got, want := result(s), result(fold(rows[:half])); !closeEnough(got, want) {
				t.Errorf("%s%v: retracting the second half = %s, adding the first half = %s", f.Name, argTypes, show(got), show(want))
			}
		}
	}
}
