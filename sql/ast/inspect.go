package ast

import "reflect"

// Inspect walks the tree rooted at n depth-first, in field order, calling f
// for each node (statements, query parts, expressions, types, and the value
// nodes such as When, Duration and Property). When f returns false the
// node's children are skipped. The engine uses it to find column
// references, aggregate calls and the like without a type switch of its own.
func Inspect(n Node, f func(Node) bool) {
	walk(reflect.ValueOf(n), f)
}

// walk relies on reflection so that a node type added to the package is
// walked without a second list to keep in step.
func walk(v reflect.Value, f func(Node) bool) {
	switch v.Kind() {
	case reflect.Interface:
		if !v.IsNil() {
			walk(v.Elem(), f)
		}
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		if n, ok := v.Interface().(Node); ok && !f(n) {
			return
		}
		if v.Elem().Kind() == reflect.Struct {
			walkFields(v.Elem(), f)
		}
	case reflect.Struct:
		if v.Type() == posType {
			return
		}
		if n, ok := v.Interface().(Node); ok && !f(n) {
			return
		}
		walkFields(v, f)
	case reflect.Slice:
		for i := range v.Len() {
			walk(v.Index(i), f)
		}
	}
}

func walkFields(v reflect.Value, f func(Node) bool) {
	for i := range v.NumField() {
		if v.Type().Field(i).Type != posType {
			walk(v.Field(i), f)
		}
	}
}

var exprType = reflect.TypeFor[Expr]()

// Rewrite returns a copy of e in which every expression has been replaced by
// f's result, children first (post-order): f sees a node whose children are
// already rewritten. e itself is not modified; parts that hold no expression
// (types) are shared with it. The engine uses it to replace
// aggregate calls by column references, resolve aliases and the like.
func Rewrite(e Expr, f func(Expr) Expr) Expr {
	if e == nil {
		return nil
	}
	v := reflect.ValueOf(e)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return f(e)
	}
	c := reflect.New(v.Elem().Type())
	c.Elem().Set(rebuild(v.Elem(), f))
	return f(c.Interface().(Expr))
}

// rebuild copies v, rewriting the expressions it holds.
func rebuild(v reflect.Value, f func(Expr) Expr) reflect.Value {
	switch v.Kind() {
	case reflect.Interface:
		if v.Type() == exprType && !v.IsNil() {
			out := reflect.New(exprType).Elem()
			out.Set(reflect.ValueOf(Rewrite(v.Interface().(Expr), f)))
			return out
		}
	case reflect.Struct:
		out := reflect.New(v.Type()).Elem()
		out.Set(v)
		for i := range v.NumField() {
			out.Field(i).Set(rebuild(v.Field(i), f))
		}
		return out
	case reflect.Slice:
		if v.IsNil() || !holdsExpr(v.Type().Elem()) {
			return v
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			out.Index(i).Set(rebuild(v.Index(i), f))
		}
		return out
	}
	return v
}

// holdsExpr reports whether values of type t can contain an expression
// without going through a pointer (Expr, When, MapEntry, StructField).
func holdsExpr(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Interface:
		return t == exprType
	case reflect.Struct:
		for i := range t.NumField() {
			if holdsExpr(t.Field(i).Type) {
				return true
			}
		}
	case reflect.Slice:
		return holdsExpr(t.Elem())
	}
	return false
}
