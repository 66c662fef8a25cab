// Package funcs holds ksqlDB's scalar and table functions in one registry,
// the rules that pick a function variant for a call, and the implicit and
// explicit conversions (Cast, CommonType, decimal arithmetic types) that the
// SQL engine shares with them.
//
// # One table
//
// Every function is one entry of the builtins table (see the fn_*.go files):
// its name, category, description and variants. A variant declares its
// parameters as type patterns (concrete types, generic variables such as T,
// ARRAY<T>, any DECIMAL, lambdas), whether the last parameter repeats, its
// return type (a pattern, or a rule for DECIMAL precision and scale) and its
// implementation. SHOW FUNCTIONS and DESCRIBE FUNCTION render from the same
// entries (List, Describe).
//
// # Binding
//
// The engine binds each call once, when it plans a query:
//
//	b, err := reg.Resolve("SUBSTRING", []types.Type{types.StringType, types.IntType})
//	v, err := b.Eval([]types.Value{"stream", int32(2)})
//
// Resolve picks the variant as ksqlDB does: an exact match of parameter
// types first; otherwise the candidate that needs the fewest implicit
// widenings (INT -> BIGINT -> DECIMAL -> DOUBLE). A NULL literal has the type
// NullType and matches any parameter. Bound.Eval converts widened arguments
// before calling the implementation, so implementations see values of their
// declared types only.
//
// Errors returned by Eval are per-row evaluation errors. ksqlDB does not
// fail a query on them: the engine should log them to the processing log and
// use NULL as the result, which is what ksqlDB does.
//
// # Lambdas
//
// TRANSFORM, FILTER and REDUCE take lambdas. The registry does not compile
// expressions (it must not depend on the AST); the engine does, in three
// steps:
//
//  1. For each lambda argument i, ask for its parameter types, describing
//     the lambdas by arity only:
//     in, err := reg.LambdaInputs("TRANSFORM", []funcs.Arg{{Type: arrType}, {Lambda: &funcs.LambdaArg{Arity: 1}}}, 1)
//  2. Compile the lambda body with those parameter types and record its
//     result type in LambdaArg.Result.
//  3. Bind with ResolveArgs(name, args) and, at run time, pass each lambda
//     as a LambdaFunc value in its argument position.
//
// # Arguments the grammar writes differently
//
// DATEADD, DATESUB, TIMEADD, TIMESUB, TIMESTAMPADD and TIMESTAMPSUB take a
// time unit keyword (DAYS, HOURS, MINUTES, SECONDS, MILLISECONDS); the
// engine passes it as a STRING argument ('DAYS'). CAST, CASE, ARRAY[...],
// MAP(...) and STRUCT(...) are grammar, not functions: the engine builds
// them with Cast and CommonType.
//
// # Table functions
//
// EXPLODE and CUBE_EXPLODE live in the same table with Kind TableFunction.
// Their Bound.Rows returns the values to emit, one per output row; Zip
// combines several table function results of one SELECT the way ksqlDB
// does (padding the shorter ones with NULL).
package funcs
