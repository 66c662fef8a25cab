package ast

import (
	"github.com/sluicedata/sluice/sql/types"
)

// IntLit is an integer literal that fits a 32-bit INT (ksqlDB types integer
// literals as INT when they fit, BIGINT otherwise). A minus sign written
// directly before a number is folded into the literal.
type IntLit struct {
	Pos
	Value int32
}

// BigintLit is an integer literal outside INT's range (a tree built by code
// should use IntLit for values that fit, or its print reads back as IntLit).
type BigintLit struct {
	Pos
	Value int64
}

// DecimalLit is a number with a decimal point and no exponent (1.50), typed
// DECIMAL as ksqlDB does. Text is the normalised digits ("-0.5", "1.50",
// "1." for scale 0); the scale is the number of digits after the point.
type DecimalLit struct {
	Pos
	Text string
}

// Dec returns the literal's value.
func (l *DecimalLit) Dec() types.Dec { return types.MustDec(l.Text) }

// Type returns the literal's DECIMAL type: precision is the number of digits
// (at least the scale), scale the digits after the point.
func (l *DecimalLit) Type() types.Type {
	d := l.Dec()
	p := d.Precision()
	if d.Scale > p {
		p = d.Scale
	}
	return types.DecimalOf(p, d.Scale)
}

// DoubleLit is a number written with an exponent (1.5E3), typed DOUBLE.
type DoubleLit struct {
	Pos
	Value float64
}

// StringLit is a quoted string; Value has the ” escapes resolved.
type StringLit struct {
	Pos
	Value string
}

// BoolLit is TRUE or FALSE.
type BoolLit struct {
	Pos
	Value bool
}

// NullLit is NULL.
type NullLit struct {
	Pos
}

// ColumnRef names a column, optionally qualified by a source name or alias
// (src.col). Pseudo columns (ROWTIME, WINDOWSTART ...) are column references
// too; the engine resolves them.
type ColumnRef struct {
	Pos
	Source string // "" when unqualified
	Name   string
}

// LambdaVar is a reference to a lambda parameter inside the lambda's body.
type LambdaVar struct {
	Pos
	Name string
}

// Dereference is a STRUCT field access: Base->Field.
type Dereference struct {
	Pos
	Base  Expr
	Field string
}

// Subscript is Base[Index]: an ARRAY element (1-based, negative counts from
// the end) or a MAP value by key.
type Subscript struct {
	Pos
	Base  Expr
	Index Expr
}

// FuncCall is a function call. Star is COUNT(*)'s argument (Args is then
// empty). ksqlDB has no DISTINCT inside calls (COUNT_DISTINCT is a function),
// so neither does the tree. Name is upper-cased like any identifier.
type FuncCall struct {
	Pos
	Name string
	Args []Expr
	Star bool
}

// TimeUnit is a unit of time, as written in windows, WITHIN, timeouts and as
// a function argument (TIMESTAMPADD(SECONDS, 5, ts)).
type TimeUnit int

// The time units. ksqlDB accepts the singular and plural spellings alike.
const (
	Milliseconds TimeUnit = iota + 1
	Seconds
	Minutes
	Hours
	Days
)

// IntervalUnit is a bare time unit passed as a function argument, as in
// TIMESTAMPADD(MINUTES, 5, ts).
type IntervalUnit struct {
	Pos
	Unit TimeUnit
}

// Cast is CAST(Expr AS Type).
type Cast struct {
	Pos
	Expr Expr
	Type *Type
}

// Case is a CASE expression. Operand is set for the simple form
// (CASE x WHEN 1 THEN ...) and nil for the searched form (CASE WHEN cond
// THEN ...). Else is nil when absent (the result is then NULL).
type Case struct {
	Pos
	Operand Expr
	Whens   []When
	Else    Expr
}

// When is one WHEN ... THEN ... arm of a CASE.
type When struct {
	Pos
	Cond   Expr
	Result Expr
}

// Between is Expr [NOT] BETWEEN Low AND High.
type Between struct {
	Pos
	Expr, Low, High Expr
	Not             bool
}

// Like is Expr [NOT] LIKE Pattern [ESCAPE 'c']. Escape is "" when absent,
// otherwise exactly one character.
type Like struct {
	Pos
	Expr, Pattern Expr
	Escape        string
	Not           bool
}

// InList is Expr [NOT] IN (List...).
type InList struct {
	Pos
	Expr Expr
	List []Expr
	Not  bool
}

// IsNull is Expr IS [NOT] NULL.
type IsNull struct {
	Pos
	Expr Expr
	Not  bool
}

// IsDistinctFrom is Left IS [NOT] DISTINCT FROM Right (a null-safe
// comparison).
type IsDistinctFrom struct {
	Pos
	Left, Right Expr
	Not         bool
}

// BinaryOp is a binary operator.
type BinaryOp int

// The binary operators, from loosest to tightest binding.
const (
	Or BinaryOp = iota + 1
	And
	Eq  // =
	Neq // <> (also written !=)
	Lt
	Lte
	Gt
	Gte
	Concat // ||
	Add
	Sub
	Mul
	Div
	Mod
)

var binaryOpText = map[BinaryOp]string{
	Or: "OR", And: "AND", Eq: "=", Neq: "<>", Lt: "<", Lte: "<=", Gt: ">", Gte: ">=",
	Concat: "||", Add: "+", Sub: "-", Mul: "*", Div: "/", Mod: "%",
}

func (o BinaryOp) String() string { return binaryOpText[o] }

// IsComparison reports whether o is one of = <> < <= > >=.
func (o BinaryOp) IsComparison() bool { return o >= Eq && o <= Gte }

// Binary is Left Op Right: logical AND/OR, comparisons, arithmetic and ||.
// ksqlDB's + also concatenates strings; the engine decides by type.
type Binary struct {
	Pos
	Op          BinaryOp
	Left, Right Expr
}

// UnaryOp is a prefix operator.
type UnaryOp int

// The unary operators.
const (
	Not UnaryOp = iota + 1
	Neg
	Plus
)

// Unary is Op Expr: NOT x, -x, +x.
type Unary struct {
	Pos
	Op   UnaryOp
	Expr Expr
}

// AtTimeZone is Expr AT TIME ZONE 'Zone'.
type AtTimeZone struct {
	Pos
	Expr Expr
	Zone string
}

// ArrayCtor is ARRAY[Elems...].
type ArrayCtor struct {
	Pos
	Elems []Expr
}

// MapCtor is MAP(k := v, ...).
type MapCtor struct {
	Pos
	Entries []MapEntry
}

// MapEntry is one k := v of a MAP constructor.
type MapEntry struct {
	Pos
	Key, Value Expr
}

// StructCtor is STRUCT(name := v, ...).
type StructCtor struct {
	Pos
	Fields []StructField
}

// StructField is one name := v of a STRUCT constructor.
type StructField struct {
	Pos
	Name  string
	Value Expr
}

// Lambda is x => body or (x, y) => body, allowed as an argument of the
// lambda functions (TRANSFORM, FILTER, REDUCE). References to the parameters
// inside Body are LambdaVar nodes.
type Lambda struct {
	Pos
	Params []string
	Body   Expr
}

func (*IntLit) exprNode()         {}
func (*BigintLit) exprNode()      {}
func (*DecimalLit) exprNode()     {}
func (*DoubleLit) exprNode()      {}
func (*StringLit) exprNode()      {}
func (*BoolLit) exprNode()        {}
func (*NullLit) exprNode()        {}
func (*ColumnRef) exprNode()      {}
func (*LambdaVar) exprNode()      {}
func (*Dereference) exprNode()    {}
func (*Subscript) exprNode()      {}
func (*FuncCall) exprNode()       {}
func (*IntervalUnit) exprNode()   {}
func (*Cast) exprNode()           {}
func (*Case) exprNode()           {}
func (*Between) exprNode()        {}
func (*Like) exprNode()           {}
func (*InList) exprNode()         {}
func (*IsNull) exprNode()         {}
func (*IsDistinctFrom) exprNode() {}
func (*Binary) exprNode()         {}
func (*Unary) exprNode()          {}
func (*AtTimeZone) exprNode()     {}
func (*ArrayCtor) exprNode()      {}
func (*MapCtor) exprNode()        {}
func (*StructCtor) exprNode()     {}
func (*Lambda) exprNode()         {}
