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
