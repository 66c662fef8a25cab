package funcs

import (
	"encoding/base64"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sluicedata/sluice/sql/types"
)

// The fixtures under testdata/*.txt hold one case per line:
//
//	CALL => EXPECTED [:: TYPE]
//	CALL => ERROR 'text in the error'
//
// Both sides are expressions of a small literal language: 'string' (''
// escapes a quote), 12 (INT, or BIGINT when it does not fit), 1.50
// (DECIMAL(3, 2), as ksqlDB reads it), 1.5E0 (DOUBLE), TRUE, FALSE, NULL,
// ARRAY[...], MAP('k' := v, ...), STRUCT(F := v, ...), CAST(x AS TYPE) and
// calls of registered functions, nested as needed. A table function's rows
// compare as an ARRAY. DOUBLE results compare within 1e-9 (relative) with
// an expected DOUBLE or DECIMAL; everything else compares exactly
// (DECIMALs with their scale). Lines starting with # are comments.
//
// To add cases, write them as `CALL => ?` and run
// `go test ./sql/funcs -run TestFixtures -rewrite`: the expected side (and
// its type) is filled in from the actual result, as are failing cases;
// review the diff before committing.

type expr struct {
	t types.Type
	v types.Value
}

type exprParser struct {
	reg  *Registry
	src  string
	pos  int
	seen map[string]bool // top-level function names called
}

func (p *exprParser) errorf(format string, args ...any) error {
	return fmt.Errorf("at %d in %q: %s", p.pos, p.src, fmt.Sprintf(format, args...))
}

func (p *exprParser) skipSpace() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t') {
		p.pos++
	}
}

func (p *exprParser) peek(s string) bool {
	p.skipSpace()
	return strings.HasPrefix(strings.ToUpper(p.src[p.pos:]), s)
}

func (p *exprParser) accept(s string) bool {
	if p.peek(s) {
		p.pos += len(s)
		return true
	}
	return false
}

func (p *exprParser) expect(s string) error {
	if !p.accept(s) {
		return p.errorf("expected %q", s)
	}
	return nil
}

func (p *exprParser) ident() string {
	p.skipSpace()
	start := p.pos
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || p.pos > start && c >= '0' && c <= '9' {
			p.pos++
			continue
		}
		break
	}
	return strings.ToUpper(p.src[start:p.pos])
}

func (p *exprParser) expr(top bool) (expr, error) {
	p.skipSpace()
	if p.pos >= len(p.src) {
		return expr{}, p.errorf("unexpected end")
	}
	if p.accept("-INFINITY") {
		return expr{types.DoubleType, math.Inf(-1)}, nil
	}
	c := p.src[p.pos]
	switch {
	case c == '\'':
		return p.str()
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	}
	name := p.ident()
	switch name {
	case "":
		return expr{}, p.errorf("unexpected %q", c)
	case "NULL":
		return expr{NullType, nil}, nil
	case "NAN":
		return expr{types.DoubleType, math.NaN()}, nil
	case "INFINITY":
		return expr{types.DoubleType, math.Inf(1)}, nil
	case "TRUE", "FALSE":
		return expr{types.BooleanType, name == "TRUE"}, nil
	case "ARRAY":
		if err := p.expect("["); err != nil {
			return expr{}, err
		}
		var elems []expr
		if !p.accept("]") {
			for {
				e, err := p.expr(false)
				if err != nil {
					return expr{}, err
				}
				elems = append(elems, e)
				if p.accept("]") {
					break
				}
				if err := p.expect(","); err != nil {
					return expr{}, err
				}
			}
		}
		et, vals, err := unify(elems)
		if err != nil {
			return expr{}, p.errorf("%v", err)
		}
		return expr{types.ArrayOf(et), vals}, nil
	case "MAP", "STRUCT":
		if err := p.expect("("); err != nil {
			return expr{}, err
		}
		var keys []string
		var vals []expr
		if !p.accept(")") {
			for {
				var k string
				if name == "MAP" {
					ke, err := p.str()
					if err != nil {
						return expr{}, err
					}
					k = ke.v.(string)
				} else {
					k = p.ident()
				}
				if err := p.expect(":="); err != nil {
					return expr{}, err
				}
				e, err := p.expr(false)
				if err != nil {
					return expr{}, err
				}
				keys, vals = append(keys, k), append(vals, e)
				if p.accept(")") {
					break
				}
				if err := p.expect(","); err != nil {
					return expr{}, err
				}
			}
		}
		if name == "STRUCT" {
			t := types.Type{Kind: types.Struct}
			v := types.StructVal{}
			for i, k := range keys {
				t.Fields = append(t.Fields, types.F(k, vals[i].t))
				v = append(v, types.FieldValue{Name: k, Value: vals[i].v})
			}
			return expr{t, v}, nil
		}
		et, vs, err := unify(vals)
		if err != nil {
			return expr{}, p.errorf("%v", err)
		}
		m := map[string]types.Value{}
		for i, k := range keys {
			m[k] = vs.([]types.Value)[i]
		}
		return expr{types.MapOf(et), m}, nil
	case "CAST":
		if err := p.expect("("); err != nil {
			return expr{}, err
		}
		e, err := p.expr(false)
		if err != nil {
			return expr{}, err
		}
		if err := p.expect("AS"); err != nil {
			return expr{}, err
		}
		p.skipSpace()
		depth, start := 0, p.pos
		for ; p.pos < len(p.src); p.pos++ {
			if p.src[p.pos] == '(' || p.src[p.pos] == '<' {
				depth++
			}
			if p.src[p.pos] == ')' || p.src[p.pos] == '>' {
				if depth == 0 && p.src[p.pos] == ')' {
					break
				}
				depth--
			}
		}
		t, err := types.Parse(p.src[start:p.pos])
		if err != nil {
			return expr{}, err
		}
		p.pos++
		v, err := Cast(e.v, e.t, t)
		if err != nil {
			return expr{}, err
		}
		return expr{t, v}, nil
	}
	// A function call.
	if err := p.expect("("); err != nil {
		return expr{}, err
	}
	var args []expr
	if !p.accept(")") {
		for {
			e, err := p.expr(false)
			if err != nil {
				return expr{}, err
			}
			args = append(args, e)
			if p.accept(")") {
				break
			}
			if err := p.expect(","); err != nil {
				return expr{}, err
			}
		}
	}
	if top {
		p.seen[name] = true
	}
	ts := make([]types.Type, len(args))
	vs := make([]types.Value, len(args))
	for i, a := range args {
		ts[i], vs[i] = a.t, a.v
	}
	b, err := p.reg.Resolve(name, ts)
	if err != nil {
		return expr{}, err
	}
	if b.Function.Kind == TableFunction {
		rows, err := b.Rows(vs)
		if err != nil {
			return expr{}, err
		}
		return expr{types.ArrayOf(b.Result), orEmpty(rows)}, nil
	}
	v, err := b.Eval(vs)
	if err != nil {
		return expr{}, err
	}
	if err := types.Check(b.Result, v); err != nil {
		return expr{}, fmt.Errorf("%s returned a value that does not fit its type %s: %w", name, b.Result, err)
	}
	return expr{b.Result, v}, nil
}

func (p *exprParser) str() (expr, error) {
	if err := p.expect("'"); err != nil {
		return expr{}, err
	}
	var b strings.Builder
	for {
		if p.pos >= len(p.src) {
			return expr{}, p.errorf("unterminated string")
		}
		c := p.src[p.pos]
		p.pos++
		if c == '\'' {
			if p.pos < len(p.src) && p.src[p.pos] == '\'' {
				b.WriteByte('\'')
				p.pos++
				continue
			}
			return expr{types.StringType, b.String()}, nil
		}
		b.WriteByte(c)
	}
}

func (p *exprParser) number() (expr, error) {
	start := p.pos
	if p.src[p.pos] == '-' {
		p.pos++
	}
	for p.pos < len(p.src) && strings.IndexByte("0123456789.eE", p.src[p.pos]) >= 0 ||
		p.pos > start && p.pos < len(p.src) && (p.src[p.pos] == '-' || p.src[p.pos] == '+') && (p.src[p.pos-1] == 'E' || p.src[p.pos-1] == 'e') {
		p.pos++
	}
	s := p.src[start:p.pos]
	switch {
	case strings.ContainsAny(s, "eE"):
		f, err := strconv.ParseFloat(s, 64)
		return expr{types.DoubleType, f}, err
	case strings.Contains(s, "."):
		d, err := types.ParseDec(s)
		if err != nil {
			return expr{}, err
		}
		return expr{types.DecimalOf(max(d.Precision(), d.Scale), d.Scale), d}, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return expr{}, err
	}
	if n >= math.MinInt32 && n <= math.MaxInt32 {
		return expr{types.IntType, int32(n)}, nil
	}
	return expr{types.BigintType, n}, nil
}

// unify converts expressions to their common type, as ARRAY[...] does.
func unify(es []expr) (types.Type, types.Value, error) {
	t := NullType
	for _, e := range es {
		var ok bool
		if t, ok = CommonType(t, e.t); !ok {
			return t, nil, fmt.Errorf("no common type for %s and %s", t, e.t)
		}
	}
	out := make([]types.Value, len(es))
	for i, e := range es {
		v, err := Cast(e.v, e.t, t)
		if err != nil {
			return t, nil, err
		}
		out[i] = v
	}
	return t, out, nil
}

// approxEqual is types.Equal with DOUBLEs compared within a relative 1e-9.
func approxEqual(got, want types.Value) bool {
	if g, ok := got.(float64); ok {
		var w float64
		switch x := want.(type) {
		case float64:
			w = x
		case types.Dec:
			w = x.Float64()
		case int32:
			w = float64(x)
		default:
			return false
		}
		if math.IsNaN(g) || math.IsNaN(w) {
			return math.IsNaN(g) && math.IsNaN(w)
		}
		if math.IsInf(g, 0) || math.IsInf(w, 0) {
			return g == w
		}
		return math.Abs(g-w) <= 1e-9*math.Max(1, math.Abs(w))
	}
	switch g := got.(type) {
	case []types.Value:
		w, ok := want.([]types.Value)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range g {
			if !approxEqual(g[i], w[i]) {
				return false
			}
		}
		return true
	}
	return types.Equal(got, want)
}

func show(v types.Value) string {
	var b strings.Builder
	writeJSON(&b, v)
	if d, ok := v.(types.Dec); ok {
		return d.String() + " (DECIMAL)"
	}
	return b.String()
}

var rewrite = flag.Bool("rewrite", false, "rewrite the failing fixture cases, and those written as `CALL => ?`, with the actual results")

// runFixtures runs every case in testdata/*.txt and returns the names of
// the functions called at the top level of a case.
func runFixtures(t *testing.T, reg *Registry) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
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
			got, gotErr := evalCase(reg, call, seen)
			if *rewrite {
				if msg := checkCase(reg, got, gotErr, want); msg != "" || strings.TrimSpace(want) == "?" {
					lines[i] = call + " => " + renderResult(got, gotErr, want)
					changed = true
				}
				continue
			}
			if msg := checkCase(reg, got, gotErr, want); msg != "" {
				t.Errorf("%s: %s", where, msg)
			}
		}
		if changed {
			if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return seen
}

func evalCase(reg *Registry, call string, seen map[string]bool) (expr, error) {
	p := &exprParser{reg: reg, src: call, seen: seen}
	got, err := p.expr(true)
	if err == nil && strings.TrimSpace(p.src[p.pos:]) != "" {
		return expr{}, fmt.Errorf("trailing text %q", p.src[p.pos:])
	}
	return got, err
}

// checkCase compares a result with the expected side of a case and says
// what differs ("" when nothing does).
func checkCase(reg *Registry, got expr, gotErr error, want string) string {
	if msg, isErr := strings.CutPrefix(want, "ERROR "); isErr {
		msg = strings.Trim(strings.TrimSpace(msg), "'")
		switch {
		case gotErr == nil:
			return fmt.Sprintf("got %s, want an error containing %q", show(got.v), msg)
		case !strings.Contains(strings.ToLower(gotErr.Error()), strings.ToLower(msg)):
			return fmt.Sprintf("got error %q, want one containing %q", gotErr, msg)
		}
		return ""
	}
	if gotErr != nil {
		return gotErr.Error()
	}
	wantExpr, wantType, _ := strings.Cut(want, " :: ")
	wp := &exprParser{reg: reg, src: wantExpr, seen: map[string]bool{}}
	w, err := wp.expr(false)
	if err != nil {
		return fmt.Sprintf("expected value: %v", err)
	}
	if !approxEqual(got.v, w.v) {
		return fmt.Sprintf("got %s, want %s", show(got.v), show(w.v))
	}
	if wantType != "" {
		wt, err := types.Parse(strings.TrimSpace(wantType))
		if err != nil {
			return err.Error()
		}
		if !got.t.Equal(wt) {
			return fmt.Sprintf("got type %s, want %s", got.t, wt)
		}
	}
	return ""
}

// renderResult writes a result as the expected side of a case, with its
// type when the old expectation had one or was "?".
func renderResult(got expr, gotErr error, oldWant string) string {
	if gotErr != nil {
		msg := strings.ReplaceAll(gotErr.Error(), "'", "")
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i]
		}
		return "ERROR '" + msg + "'"
	}
	out := literal(got.v)
	if strings.Contains(oldWant, " :: ") || strings.TrimSpace(oldWant) == "?" {
		out += " :: " + got.t.String()
	}
	return out
}

// literal writes v in the fixture language.
func literal(v types.Value) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case bool:
		return strings.ToUpper(strconv.FormatBool(x))
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int64:
		if x >= math.MinInt32 && x <= math.MaxInt32 {
			return fmt.Sprintf("CAST(%d AS BIGINT)", x)
		}
		return strconv.FormatInt(x, 10)
	case float64:
		switch {
		case math.IsNaN(x):
			return "NAN"
		case math.IsInf(x, 1):
			return "INFINITY"
		case math.IsInf(x, -1):
			return "-INFINITY"
		}
		s := javaDouble(x)
		if !strings.Contains(s, "E") {
			s += "E0"
		}
		return s
	case types.Dec:
		return x.String()
	case string:
		return "'" + strings.ReplaceAll(x, "'", "''") + "'"
	case []byte:
		return "TO_BYTES('" + base64.StdEncoding.EncodeToString(x) + "', 'base64')"
	case types.DateVal:
		return "CAST('" + formatISODate(x) + "' AS DATE)"
	case types.TimeVal:
		return "CAST('" + x.String() + "' AS TIME)"
	case types.TimestampVal:
		return "CAST('" + formatISOTimestamp(x) + "' AS TIMESTAMP)"
	case []types.Value:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = literal(e)
		}
		return "ARRAY[" + strings.Join(parts, ", ") + "]"
	case map[string]types.Value:
		var parts []string
		for _, k := range sortedKeys(x) {
			parts = append(parts, literal(k)+" := "+literal(x[k]))
		}
		return "MAP(" + strings.Join(parts, ", ") + ")"
	case types.StructVal:
		parts := make([]string, len(x))
		for i, f := range x {
			parts[i] = f.Name + " := " + literal(f.Value)
		}
		return "STRUCT(" + strings.Join(parts, ", ") + ")"
	}
	return fmt.Sprint(v)
}
