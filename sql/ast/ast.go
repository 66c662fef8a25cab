// Package ast is the syntax tree of ksqlDB's SQL dialect, as produced by
// sql/parser and consumed by the SQL engine.
//
// Every node records where it starts in the source (Pos) for error messages;
// Equal compares trees ignoring positions. Format prints a node back as SQL
// text that parses to an equal tree: the printer and the parser round-trip,
// so the SQL text and a designer's model are two views of one tree.
//
// Names are stored resolved, as ksqlDB resolves them: unquoted identifiers are
// upper-cased, quoted ones (`x` or "x") are kept as written. The printer
// quotes a name again whenever it would not read back as the same name.
package ast

import "fmt"

// Pos is a position in the source text: 1-based line and column (in bytes).
// The zero Pos means "unknown" (a node built by code rather than parsed).
type Pos struct {
	Line, Col int
}

// Position returns p; embedding Pos gives every node this method.
func (p Pos) Position() Pos { return p }

func (p Pos) String() string { return fmt.Sprintf("line %d:%d", p.Line, p.Col) }

// Node is any node of the tree.
type Node interface {
	Position() Pos
}

// Statement is a top-level statement. The concrete types are listed in
// stmt.go; a type switch over them is the engine's dispatch.
type Statement interface {
	Node
	stmtNode()
}

// Expr is a value expression. The concrete types are listed in expr.go.
type Expr interface {
	Node
	exprNode()
}
