// Package funcs holds ksqlDB's scalar, table and aggregate functions in one registry,
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
//
// # Aggregate functions
//
// COUNT, SUM, AVG, TOPK and the other ksqlDB aggregates have Kind
// AggregateFunction (fn_aggregate.go). Resolve refuses them; the planner
// binds them with ResolveAggregate, giving the types of all arguments and
// the values of the constant ones (TOPK's k, LATEST_BY_OFFSET's n and
// ignoreNulls):
//
//	a, err := reg.ResolveAggregate("TOPK", []types.Type{types.IntType, types.IntType}, []types.Value{nil, int32(3)})
//	s := a.Init()
//	s, err = a.Add(s, int32(42))  // one call per row, non-constant arguments only
//	v, err := a.Value(s)          // ARRAY<INT>, a.Result
//	b, err := a.MarshalState(s)   // for the changelog topic
//
// A group's state is a value of a.State (ksqlDB's intermediate type, such
// as STRUCT<SUM BIGINT, COUNT BIGINT> for AVG), owned by the caller: Add,
// Retract and Merge may change the state they get and return the new one.
// Retract undoes a row for table aggregations; the aggregates ksqlDB
// refuses on tables (MIN, MAX, TOPK, COLLECT_SET, COUNT_DISTINCT, the
// *_BY_OFFSET functions...) fail CheckTableSource, which the planner should
// call when the source is a table. Merge joins two session windows.
// EARLIEST_BY_OFFSET and LATEST_BY_OFFSET set a.Sequence: Add takes one
// more BIGINT after the arguments, the record's position in the input
// (its offset, or any counter that grows with the records read).
// MarshalState writes a versioned, deterministic encoding (aggstate.go).
// COLLECT_LIST's and COLLECT_SET's limits come from SetAggregateConfig.
// As in ksqlDB, an aggregate called with * or no argument aggregates
// ROWTIME (AVG(*) is AVG(ROWTIME)); the planner rewrites those calls,
// except COUNT(*), which binds the zero-argument COUNT variant.
package funcs
