package plan

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/sluicedata/sluice/sql/ast"
	"github.com/sluicedata/sluice/sql/exec"
	"github.com/sluicedata/sluice/sql/types"
)

// Joins are planned in two steps. planRelation turns the FROM clause into a
// relation: the layout of the joined rows (each source's columns followed by
// its ROWTIME, ROWPARTITION and ROWOFFSET, sources in FROM order, each
// join's key after its right source), the scope expressions resolve in, and
// the join operators fed by one decoder per source. planJoinSelect then
// projects the joined rows as planSelect does for one source, with ksqlDB's
// naming for joins: SELECT * and src.* give SRC_COL columns, a qualified
// column common to several sources is named SRC_COL, and the result key is
// a join column (or the synthetic ROWKEY when there is none, and for FULL
// joins).
//
// Each join operator computes the join key of every row it receives from
// the ON expression. A side not keyed by it goes through a repartition
// topic in persistent queries (splitJoinSide, repartition.go), so that rows
// of one key meet in one partition as in ksqlDB; push queries re-key in
// process (docs/decisions/0027-sql-joins.md).

// joinSource is a stream or table of a FROM clause and where its columns
// are in the joined row.
type joinSource struct {
	src    *Source
	alias  string
	offset int
}

// relation is a planned FROM clause.
type relation struct {
	kind    ast.SourceKind
	sources []*joinSource
	scope   []exec.ScopeColumn
	types   []types.Type
	// keyIdx is the layout index of the key: a source's single key
	// column, or a join's key column (-1 when there is none).
	keyIdx  int
	keyType types.Type
	// keyEq are the layout indexes of columns that hold the key (ksqlDB's
	// viable key columns), in preference order; empty for a synthetic key.
	keyEq []int
	// equiv are the layout indexes of all columns that hold the key where
	// their source has a row (ksqlDB's join equivalence set, which unlike
	// keyEq includes the columns of FULL joins): joining on one of them
	// needs no re-keying.
	equiv   []int
	inputs  []exec.Input
	connect func(next exec.Operator)
	// table joins take the query's WHERE with old values (setWhere).
	setWhere func(exec.Eval)
	// window is the window of windowed sources (joined rows carry it).
	window *Window
	leaf   bool
}

func (r *relation) width() int { return len(r.types) }

// joinPlanner holds what planning one join query needs.
type joinPlanner struct {
	c     *Catalog
	joins int
	// repartition: re-keyed sides go through repartition topics
	// (persistent queries); repartitions collects them.
	repartition  bool
	repartitions []*repartition
}

func (jp *joinPlanner) leaf(s *ast.Source, extra int) (*relation, error) {
	src, ok := jp.c.sources[s.Name]
	if !ok {
		return nil, fmt.Errorf("%s does not exist.", s.Name)
	}
	alias := s.Ref()
	r := &relation{kind: src.Kind, sources: []*joinSource{{src: src, alias: alias}}, keyIdx: -1, leaf: true, window: src.Window}
	nkeys := 0
	for i, col := range src.Columns {
		r.scope = append(r.scope, exec.ScopeColumn{Source: alias, Name: col.Name, Type: col.Type, Index: i})
		r.types = append(r.types, col.Type)
		if col.Kind == KeyColumn {
			nkeys++
			r.keyIdx, r.keyType = i, col.Type
		}
	}
	if nkeys != 1 {
		r.keyIdx = -1
	} else {
		r.keyEq = []int{r.keyIdx}
		r.equiv = []int{r.keyIdx}
	}
	n := len(src.Columns)
	pcs := exec.PseudoColumns(alias)
	if src.Window != nil {
		// ksqlDB's join sides carry their window bounds as columns.
		pcs = append(pcs, exec.WindowColumns(alias)...)
	}
	for i, pc := range pcs {
		pc.Index = n + i
		r.scope = append(r.scope, pc)
		r.types = append(r.types, pc.Type)
	}
	dec, err := jp.c.decoder(src, extra+len(pcs))
	if err != nil {
		return nil, err
	}
	pseudo := &exec.WithPseudoColumns{Window: src.Window != nil}
	r.inputs = []exec.Input{{Decoder: dec, Next: pseudo}}
	r.connect = func(next exec.Operator) { pseudo.Next = next }
	return r, nil
}

// joinWindow checks, as ksqlDB's analyzer does, that the sources of the
// ON expressions are both windowed or both not, with compatible windows
// (sessions with sessions; tumbling and hopping with either), and returns
// the left one's window (nil when not windowed).
func joinWindow(l, r *joinSource) (*Window, error) {
	if l == nil || r == nil {
		return nil, nil
	}
	lw, rw := l.src.Window, r.src.Window
	if (lw == nil) != (rw == nil) {
		kind := func(w *Window) string {
			if w == nil {
				return "not"
			}
			return w.Type
		}
		return nil, fmt.Errorf("Can not join windowed source to non-windowed source.\n`%s` is %s windowed\n`%s` is %s windowed",
			l.alias, kind(lw), r.alias, kind(rw))
	}
	if lw == nil {
		return nil, nil
	}
	if (lw.Type == "SESSION") != (rw.Type == "SESSION") {
		return nil, fmt.Errorf("Incompatible windowed sources.\nLeft source: %s\nRight source: %s\n"+
			"Session windowed sources can only be joined to other session windowed sources, and may still not result in expected behaviour as session bounds must be an exact match for the join to work\n"+
			"Hopping and tumbling windowed sources can only be joined to other hopping and tumbling windowed sources", lw.Type, rw.Type)
	}
	return lw, nil
}

// joinTypeName is how ksqlDB names join types in messages.
func joinTypeName(t ast.JoinType) string {
	switch t {
	case ast.LeftJoin:
		return "LEFT"
	case ast.RightJoin:
		return "RIGHT"
	case ast.FullJoin:
		return "OUTER"
	}
	return "INNER"
}

// sideOf says which side of a join an expression's columns come from:
// 1 left, 2 right, 3 both, 0 none.
func (jp *joinPlanner) sideOf(e ast.Expr, left, right *relation) (int, error) {
	side := 0
	var err error
	ast.Inspect(e, func(n ast.Node) bool {
		ref, ok := n.(*ast.ColumnRef)
		if !ok || err != nil {
			return err == nil
		}
		in := func(r *relation) bool {
			for _, s := range r.sources {
				if ref.Source != "" {
					if strings.EqualFold(s.alias, ref.Source) {
						return true
					}
					continue
				}
				if _, i := s.src.Column(ref.Name); i >= 0 {
					return true
				}
			}
			return false
		}
		l, r := in(left), in(right)
		switch {
		case l && r:
			var names []string
			for _, s := range append(append([]*joinSource{}, left.sources...), right.sources...) {
				if _, i := s.src.Column(ref.Name); i >= 0 {
					names = append(names, s.src.Name+"."+ref.Name)
				}
			}
			err = fmt.Errorf("Column '%s' is ambiguous. Could be %s.", ref.Name, strings.Join(names, " or "))
		case l:
			side |= 1
		case r:
			side |= 2
		case ref.Source != "":
			known := false
			for _, s := range append(append([]*joinSource{}, left.sources...), right.sources...) {
				known = known || strings.EqualFold(s.alias, ref.Source)
			}
			if !known {
				err = fmt.Errorf("'%s' is not a valid stream/table name or alias.", ref.Source)
			} else {
				err = fmt.Errorf("JOIN ON column '%s.%s' cannot be resolved.", ref.Source, ref.Name)
			}
		default:
			err = fmt.Errorf("JOIN ON column '%s' cannot be resolved.", ref.Name)
		}
		return err == nil
	})
	return side, err
}

// keyColumn reports whether e is a column reference to a key column of one
// of r's sources, and its layout index.
func keyColumnRef(e ast.Expr, r *relation) (int, bool) {
	ref, ok := e.(*ast.ColumnRef)
	if !ok {
		return -1, false
	}
	for _, s := range r.sources {
		if ref.Source != "" && !strings.EqualFold(ref.Source, s.alias) {
			continue
		}
		col, i := s.src.Column(ref.Name)
		if i < 0 {
			continue
		}
		nkeys := 0
		for _, c := range s.src.Columns {
			if c.Kind == KeyColumn {
				nkeys++
			}
		}
		return s.offset + i, col.Kind == KeyColumn && nkeys == 1
	}
	return -1, false
}

// sourceOfExpr is the source of r the first column of e belongs to.
func sourceOfExpr(e ast.Expr, r *relation) *joinSource {
	var found *joinSource
	ast.Inspect(e, func(n ast.Node) bool {
		ref, ok := n.(*ast.ColumnRef)
		if !ok || found != nil {
			return found == nil
		}
		for _, s := range r.sources {
			if ref.Source != "" && strings.EqualFold(ref.Source, s.alias) {
				found = s
			} else if _, i := s.src.Column(ref.Name); ref.Source == "" && i >= 0 {
				found = s
			}
			if found != nil {
				break
			}
		}
		return found == nil
	})
	return found
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func (jp *joinPlanner) relation(rel ast.Relation, extra int) (*relation, error) {
	switch x := rel.(type) {
	case *ast.Source:
		return jp.leaf(x, extra)
	case *ast.Join:
		return jp.join(x, extra)
	}
	return nil, fmt.Errorf("unsupported FROM clause")
}

func (jp *joinPlanner) join(j *ast.Join, extra int) (*relation, error) {
	left, err := jp.relation(j.Left, extra)
	if err != nil {
		return nil, err
	}
	right, err := jp.leaf(j.Right, extra)
	if err != nil {
		return nil, err
	}
	for _, s := range left.sources {
		if s.src.Name == right.sources[0].src.Name {
			return nil, fmt.Errorf("Can not join '%s' to '%s': self joins are not yet supported.", s.src.Name, s.src.Name)
		}
	}
	on, ok := j.On.(*ast.Binary)
	if !ok || on.Op != ast.Eq {
		if ok && on.Op == ast.And {
			return nil, fmt.Errorf("Invalid join condition: joins on multiple conditions are not yet supported. Got %s.", parenthesized(j.On))
		}
		return nil, fmt.Errorf("Unsupported join expression: %s. Only equality joins are supported (ON a = b).", ast.Format(j.On))
	}
	le, re := on.Left, on.Right
	ls, err := jp.sideOf(le, left, right)
	if err != nil {
		return nil, err
	}
	rs, err := jp.sideOf(re, left, right)
	if err != nil {
		return nil, err
	}
	badSide := func(e ast.Expr) error {
		return fmt.Errorf("Invalid comparison expression '%s' in join '%s'. Each side of the join comparision must contain references from exactly one source.", ast.Format(e), parenthesized(j.On))
	}
	// The sources of the ON expressions as written (ksqlDB's left and
	// right in its messages about windowed sources).
	onLeft, onRight := sourceOfExpr(le, left), sourceOfExpr(re, right)
	if ls == 2 {
		onLeft, onRight = sourceOfExpr(le, right), sourceOfExpr(re, left)
	}
	switch {
	case ls != 1 && ls != 2:
		return nil, badSide(le)
	case rs != 1 && rs != 2:
		return nil, badSide(re)
	case ls == rs:
		return nil, fmt.Errorf("Invalid join condition: each side of %s must reference a different source.", parenthesized(j.On))
	case ls == 2:
		le, re = re, le
	}
	rsrc := right.sources[0]
	rsrc.offset = left.width()
	// ksqlDB names the source of the left join expression.
	lname := left.sources[0].src.Name
	if s := sourceOfExpr(le, left); s != nil {
		lname = s.src.Name
	}
	got := fmt.Sprintf("Got %s %s %s.", lname, joinTypeName(j.Type), rsrc.src.Name)
	window, err := joinWindow(onLeft, onRight)
	if err != nil {
		return nil, err
	}

	lcomp := &exec.Compiler{Funcs: jp.c.funcs, Scope: &exec.Scope{Columns: left.scope}, Types: jp.c.lookupType}
	rcomp := &exec.Compiler{Funcs: jp.c.funcs, Scope: &exec.Scope{Columns: right.scope}, Types: jp.c.lookupType}
	lk, err := lcomp.Compile(le)
	if err != nil {
		return nil, clause("JOIN ON", err)
	}
	rk, err := rcomp.Compile(re)
	if err != nil {
		return nil, clause("JOIN ON", err)
	}
	// ksqlDB checks the key types after the checks on which columns a
	// join may use.
	typesMatch := func() error {
		if !lk.Type.Equal(rk.Type) {
			return fmt.Errorf("Invalid join condition: types don't match. Got %s{%s} = %s{%s}.", ast.Format(le), lk.Type, ast.Format(re), rk.Type)
		}
		return nil
	}
	lKeyIdx, lIsKey := keyColumnRef(le, left)
	_, rIsKey := keyColumnRef(re, right)
	// A left expression that holds the left relation's key reads the key
	// column itself (no re-keying; for outer joins the column may be NULL
	// where the key is not).
	leftKey := lk.Eval
	leftKeyed := lKeyIdx >= 0 && contains(left.equiv, lKeyIdx) && left.keyIdx >= 0
	if leftKeyed {
		leftKey = exec.ColumnEval(exec.ScopeColumn{Type: left.keyType, Index: left.keyIdx}).Eval
	}

	// Co-partitioning: sides joined on their keys must have as many
	// partitions (a re-keyed side is repartitioned to match the other; a
	// foreign-key join needs neither).
	if left.leaf && leftKeyed && rIsKey && !(left.kind == ast.Table && rsrc.src.Kind == ast.Table && !lIsKey) {
		lp, rp := left.sources[0].src.Partitions, rsrc.src.Partitions
		if lp > 0 && rp > 0 && lp != rp {
			la, ra := left.sources[0].alias, rsrc.alias
			return nil, fmt.Errorf("Can't join `%s` with `%s` since the number of partitions don't match. `%s` partitions = %d; `%s` partitions = %d. Please repartition either one so that the number of partitions match.",
				la, ra, la, lp, ra, rp)
		}
	}

	jp.joins++
	spec := exec.JoinSpec{Name: fmt.Sprintf("Join-%d", jp.joins), KeyType: lk.Type,
		Left:  exec.JoinSide{Key: leftKey, Columns: left.types},
		Right: exec.JoinSide{Key: rk.Eval, Columns: right.types}}
	if window != nil {
		// Windowed sources join on their key and window.
		session := window.Type == "SESSION"
		spec.Windowed, spec.SessionWindows, spec.WindowSize = true, session, window.Size
		spec.KeyType = exec.WindowedKeyType(lk.Type)
		spec.Left.Key, spec.Right.Key = exec.WindowedKey(leftKey, session), exec.WindowedKey(rk.Eval, session)
	}
	// A windowed side cannot be re-keyed: its window would be lost.
	rekeyWindowed := func(rekey bool) error {
		if window != nil && rekey {
			return fmt.Errorf("Implicit repartitioning of windowed sources is not supported. See https://github.com/confluentinc/ksql/issues/4385.")
		}
		return nil
	}
	switch j.Type {
	case ast.LeftJoin:
		spec.Type = exec.LeftJoin
	case ast.RightJoin:
		spec.Type = exec.RightJoin
	case ast.FullJoin:
		spec.Type = exec.OuterJoin
	default:
		spec.Type = exec.InnerJoin
	}

	out := &relation{sources: append(append([]*joinSource{}, left.sources...), rsrc), keyType: lk.Type, window: left.window}
	out.inputs = append(append([]exec.Input{}, left.inputs...), right.inputs...)
	out.scope = append([]exec.ScopeColumn{}, left.scope...)
	for _, sc := range right.scope {
		sc.Index += rsrc.offset
		out.scope = append(out.scope, sc)
	}
	out.types = append(append(append([]types.Type{}, left.types...), right.types...), lk.Type)
	out.keyIdx = out.width() - 1
	if contains(left.equiv, lKeyIdx) {
		out.equiv = append(out.equiv, left.equiv...)
	} else if lKeyIdx >= 0 {
		out.equiv = append(out.equiv, lKeyIdx)
	}
	if ref, ok := re.(*ast.ColumnRef); ok {
		if sc, found, _ := rcomp.Scope.Lookup(ref.Source, ref.Name); found {
			out.equiv = append(out.equiv, sc.Index+rsrc.offset)
		}
	}
	if j.Type != ast.FullJoin {
		if contains(left.keyEq, lKeyIdx) {
			out.keyEq = append(out.keyEq, left.keyEq...)
		} else if lKeyIdx >= 0 {
			out.keyEq = append(out.keyEq, lKeyIdx)
		}
		if ref, ok := re.(*ast.ColumnRef); ok {
			if sc, found, _ := rcomp.Scope.Lookup(ref.Source, ref.Name); found {
				out.keyEq = append(out.keyEq, sc.Index+rsrc.offset)
			}
		}
	}

	rightKind := rsrc.src.Kind
	switch {
	case left.kind == ast.Stream && rightKind == ast.Stream:
		out.kind = ast.Stream
		if j.Within == nil {
			return nil, fmt.Errorf("Stream-Stream joins must have a WITHIN clause specified. None was provided. To learn about how to specify a WITHIN clause with a stream-stream join, please visit: https://docs.confluent.io/current/ksql/docs/syntax-reference.html#create-stream-as-select")
		}
		if err := typesMatch(); err != nil {
			return nil, err
		}
		if err := rekeyWindowed(!leftKeyed || !rIsKey); err != nil {
			return nil, err
		}
		grace, eager := int64(24*3600*1000), true
		if j.Within.Grace != nil {
			grace, eager = j.Within.Grace.Millis(), false
		}
		op := exec.NewStreamStreamJoin(spec, j.Within.Before.Millis(), j.Within.After.Millis(), grace, eager)
		kf, kc, of := joinKeyFormat(left, right, leftKeyed, rIsKey, lk.Type)
		left.connect(jp.splitJoinSide(!leftKeyed, "left", spec.Left, op.LeftInput(), kf, kc, of))
		right.connect(jp.splitJoinSide(!rIsKey, "right", spec.Right, op.RightInput(), kf, kc, of))
		out.connect = func(next exec.Operator) { op.Next = next }
	case left.kind == ast.Stream:
		out.kind = ast.Stream
		if j.Within != nil {
			return nil, fmt.Errorf("A window definition was provided for a Stream-Table join. These joins are not windowed. Please drop the window definition (ie. the WITHIN clause) and try to submit your query again.")
		}
		switch j.Type {
		case ast.FullJoin:
			return nil, fmt.Errorf("Invalid join type: full-outer join not supported for stream-table join. %s", got)
		case ast.RightJoin:
			return nil, fmt.Errorf("Invalid join type: right-outer join not supported for stream-table join. %s", got)
		}
		if !rIsKey {
			return nil, fmt.Errorf("Invalid join condition: stream-table joins require to join on the table's primary key. Got %s = %s.", ast.Format(le), ast.Format(re))
		}
		if err := typesMatch(); err != nil {
			return nil, err
		}
		if err := rekeyWindowed(!leftKeyed); err != nil {
			return nil, err
		}
		op := exec.NewStreamTableJoin(spec)
		jp.c.streamTable.configure(op)
		kf, kc, of := joinKeyFormat(left, right, leftKeyed, rIsKey, lk.Type)
		left.connect(jp.splitJoinSide(!leftKeyed, "left", spec.Left, op.LeftInput(), kf, kc, of))
		right.connect(op.RightInput())
		out.connect = func(next exec.Operator) { op.Next = next }
	case rightKind == ast.Stream:
		return nil, fmt.Errorf("Invalid join order: table-stream joins are not supported; only stream-table joins. %s", got)
	default:
		out.kind = ast.Table
		if j.Within != nil {
			return nil, fmt.Errorf("A window definition was provided for a Table-Table join. These joins are not windowed. Please drop the window definition (i.e. the WITHIN clause) and try to submit your query again.")
		}
		if !rIsKey {
			return nil, fmt.Errorf("Invalid join condition: table-table joins require to join on the primary key of the right input table. Got %s = %s.", ast.Format(le), ast.Format(re))
		}
		if err := typesMatch(); err != nil {
			return nil, err
		}
		if !lIsKey {
			// A foreign-key join: the left table's column (or expression)
			// against the right table's primary key.
			switch {
			case j.Type == ast.FullJoin:
				return nil, fmt.Errorf("Invalid join type: full-outer join not supported for foreign-key table-table join. %s", got)
			case j.Type == ast.RightJoin:
				return nil, fmt.Errorf("Invalid join type: right-outer join not supported for foreign-key table-table join. %s", got)
			case !left.leaf:
				return nil, fmt.Errorf("Invalid join condition: foreign-key table-table joins are not supported as part of n-way joins. Got %s = %s.", ast.Format(le), ast.Format(re))
			case left.keyIdx < 0:
				return nil, fmt.Errorf("Invalid join condition: foreign-key joins need a left table with one PRIMARY KEY column.")
			case window != nil:
				return nil, fmt.Errorf("Foreign-key table-table joins are not supported on windowed tables.")
			}
			spec.KeyType = left.keyType
			out.types[len(out.types)-1] = left.keyType
			out.keyType = left.keyType
			out.keyEq = []int{left.keyIdx}
			out.equiv = []int{left.keyIdx}
			fkSpec := spec
			fkSpec.KeyType = lk.Type
			pk := exec.ColumnEval(exec.ScopeColumn{Type: left.keyType, Index: left.keyIdx}).Eval
			op := exec.NewForeignKeyJoin(fkSpec, pk, left.keyType, nil)
			left.connect(op.LeftInput())
			right.connect(op.RightInput())
			out.connect = func(next exec.Operator) { op.Next = next }
			out.setWhere = func(w exec.Eval) { op.Where = w }
			return out, nil
		}
		op := exec.NewTableTableJoin(spec, nil)
		left.connect(op.LeftInput())
		right.connect(op.RightInput())
		out.connect = func(next exec.Operator) { op.Next = next }
		out.setWhere = func(w exec.Eval) { op.Where = w }
	}
	return out, nil
}

var ambiguousColumn = regexp.MustCompile(`column '([^']+)' is ambiguous`)

// ambiguous rewrites the scope's ambiguity error with ksqlDB's wording,
// naming the sources that have the column.
func (r *relation) ambiguous(err error) error {
	m := ambiguousColumn.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	var names []string
	for _, s := range r.sources {
		_, i := s.src.Column(m[1])
		pseudo := m[1] == "ROWTIME" || m[1] == "ROWPARTITION" || m[1] == "ROWOFFSET" ||
			s.src.Window != nil && (m[1] == "WINDOWSTART" || m[1] == "WINDOWEND")
		if i >= 0 || pseudo {
			names = append(names, s.alias+"."+m[1])
		}
	}
	if len(names) < 2 {
		return err
	}
	return fmt.Errorf("Column '%s' is ambiguous. Could be %s.", m[1], strings.Join(names, " or "))
}

func parenthesized(e ast.Expr) string {
	s := ast.Format(e)
	if strings.HasPrefix(s, "(") {
		return s
	}
	return "(" + s + ")"
}

// planJoinSelect plans a SELECT whose FROM clause is a join.
func (c *Catalog) planJoinSelect(q *ast.Query, kind queryKind, sinkName string, j *ast.Join) (*planned, error) {
	switch {
	case q.Window != nil || len(q.GroupBy) > 0:
		return c.planJoinAggregate(q, kind, sinkName, j)
	case q.Having != nil:
		return nil, fmt.Errorf("HAVING requires GROUP BY")
	case len(q.PartitionBy) > 0 && kind == pushKind:
		return nil, fmt.Errorf("PARTITION BY is not supported in push queries: use CREATE STREAM AS SELECT")
	}
	jp := &joinPlanner{c: c, repartition: kind != pushKind}
	rel, err := jp.relation(j, 0)
	if err != nil {
		return nil, err
	}
	var kafka []string
	for _, s := range rel.sources {
		if s.src.ValueFormat.Name == "KAFKA" {
			kafka = append(kafka, s.src.Name)
		}
	}
	if len(kafka) > 0 {
		return nil, fmt.Errorf("Source(s) %s are using the 'KAFKA' value format. This format does not yet support JOIN.", strings.Join(kafka, ", "))
	}
	if rel.kind == ast.Table && kind == persistentKind {
		return nil, fmt.Errorf("Invalid result type. Your SELECT query produces a TABLE. Please use CREATE TABLE AS SELECT statement instead.")
	}
	if rel.kind == ast.Stream && kind == tableKind {
		return nil, fmt.Errorf("Invalid result type. Your SELECT query produces a STREAM. Please use CREATE STREAM AS SELECT statement instead.")
	}
	if rel.kind == ast.Table && len(q.PartitionBy) > 0 {
		return nil, fmt.Errorf("PARTITION BY is not supported on tables: the key of a table cannot change without state (use GROUP BY)")
	}

	// Names: a column of several sources is qualified in results.
	count := map[string]int{}
	for _, s := range rel.sources {
		for _, col := range s.src.Columns {
			count[col.Name]++
		}
	}
	for _, n := range []string{"ROWTIME", "ROWPARTITION", "ROWOFFSET"} {
		count[n] = len(rel.sources)
	}
	for _, s := range rel.sources {
		if s.src.Window != nil {
			count["WINDOWSTART"]++
			count["WINDOWEND"]++
		}
	}
	scope := &exec.Scope{Columns: append([]exec.ScopeColumn{}, rel.scope...)}
	keyCol := exec.ScopeColumn{Type: rel.keyType, Index: rel.keyIdx}
	synthetic := len(rel.keyEq) == 0
	if synthetic {
		keyCol.Name = "ROWKEY"
		for n := 1; count[keyCol.Name] > 0; n++ {
			keyCol.Name = fmt.Sprintf("ROWKEY_%d", n)
		}
		scope.Columns = append(scope.Columns, keyCol)
	}
	comp := &exec.Compiler{Funcs: c.funcs, Scope: scope, Types: c.lookupType}

	var where exec.Eval
	if q.Where != nil {
		w, err := comp.Compile(q.Where)
		if err != nil {
			return nil, rel.ambiguous(clause("WHERE", err))
		}
		if w.Type.Kind != types.Boolean && w.Type.Kind != 0 {
			return nil, fmt.Errorf("Type error in WHERE expression: Should evaluate to boolean but is %s (%s) instead.", ast.Format(q.Where), w.Type)
		}
		where = w.Eval
	}

	type item = joinItem
	var items []item
	// A source's columns: its keys, then (windowed sources, as ksqlDB's
	// join schemas have them) WINDOWSTART and WINDOWEND, then its values.
	sourceCols := func(s *joinSource) {
		add := func(name string, t types.Type, idx int) {
			items = append(items, item{name: s.alias + "_" + name, col: idx,
				c: exec.ColumnEval(exec.ScopeColumn{Type: t, Index: idx})})
		}
		if s.src.Window == nil {
			for i, col := range s.src.Columns {
				add(col.Name, col.Type, s.offset+i)
			}
			return
		}
		for i, col := range s.src.Columns {
			if col.Kind == KeyColumn {
				add(col.Name, col.Type, s.offset+i)
			}
		}
		n := len(s.src.Columns) + len(exec.PseudoColumns(""))
		for i, wc := range exec.WindowColumns("") {
			add(wc.Name, wc.Type, s.offset+n+i)
		}
		for i, col := range s.src.Columns {
			if col.Kind != KeyColumn {
				add(col.Name, col.Type, s.offset+i)
			}
		}
	}
	synth := 0
	nextSynth := func() string {
		for {
			n := fmt.Sprintf("KSQL_COL_%d", synth)
			synth++
			if count[n] == 0 {
				return n
			}
		}
	}
	for _, si := range q.Select {
		switch s := si.(type) {
		case *ast.SelectAll:
			if s.Source == "" {
				if synthetic {
					items = append(items, item{name: keyCol.Name, col: keyCol.Index, c: exec.ColumnEval(keyCol)})
				}
				for _, js := range rel.sources {
					sourceCols(js)
				}
				continue
			}
			var found *joinSource
			for _, js := range rel.sources {
				if strings.EqualFold(js.alias, s.Source) {
					found = js
				}
			}
			if found == nil {
				return nil, fmt.Errorf("'%s' is not a valid source in the FROM clause", s.Source)
			}
			sourceCols(found)
		case *ast.SelectStructAll:
			b, err := comp.Compile(s.Base)
			if err != nil {
				return nil, rel.ambiguous(clause("SELECT", err))
			}
			if b.Type.Kind != types.Struct {
				return nil, fmt.Errorf("%s: ->* needs a STRUCT, not %s", s.Pos, b.Type)
			}
			for i, f := range b.Type.Fields {
				i, be := i, b.Eval
				items = append(items, item{name: f.Name, col: -1, c: exec.Compiled{Type: f.Type, Eval: func(r *exec.Row) (types.Value, error) {
					v, err := be(r)
					if err != nil || v == nil {
						return nil, err
					}
					return v.(types.StructVal)[i].Value, nil
				}}})
			}
		case *ast.SelectExpr:
			cv, err := comp.Compile(s.Expr)
			if err != nil {
				return nil, rel.ambiguous(clause("SELECT", err))
			}
			if cv.Type.Kind == 0 {
				return nil, fmt.Errorf("Can't infer a type of null. Please explicitly cast it to a required type, e.g. CAST(null AS VARCHAR).")
			}
			it := item{c: cv, expr: s.Expr, name: s.Alias, col: -1}
			if ref, ok := s.Expr.(*ast.ColumnRef); ok {
				if sc, found, _ := scope.Lookup(ref.Source, ref.Name); found && sc.Index >= 0 {
					it.col = sc.Index
				}
			}
			if it.name == "" {
				switch e := s.Expr.(type) {
				case *ast.ColumnRef:
					it.name = e.Name
					if e.Source != "" && count[e.Name] > 1 {
						it.name = strings.ToUpper(e.Source) + "_" + e.Name
					}
				case *ast.Dereference:
					it.name = e.Field
				default:
					it.name = nextSynth()
				}
			}
			items = append(items, it)
		}
	}

	keyItem := -1
	var partitionKeys []int
	if len(q.PartitionBy) > 0 {
		var err error
		if items, partitionKeys, err = joinPartitionKeys(q, comp, scope, rel, items, sinkName, nextSynth); err != nil {
			return nil, err
		}
	} else if kind != pushKind {
		viable := rel.keyEq
		if synthetic {
			viable = []int{keyCol.Index}
		}
		for _, v := range viable {
			var matches []int
			for i, it := range items {
				if it.col == v {
					matches = append(matches, i)
				}
			}
			if len(matches) == 0 {
				continue
			}
			if len(matches) > 1 {
				names := make([]string, len(matches))
				for i, m := range matches {
					names[i] = items[m].name
				}
				sort.Strings(names)
				sc := scope.Columns[v]
				return nil, fmt.Errorf("The projection contains a key column (`%s`) more than once, aliased as: %s.", sc.Source+"_"+sc.Name, strings.Join(names, " and "))
			}
			keyItem = matches[0]
			break
		}
		if keyItem < 0 {
			var names []string
			for _, v := range viable {
				if synthetic {
					names = append(names, keyCol.Name)
					continue
				}
				sc := scope.Columns[v]
				names = append(names, sc.Source+"."+sc.Name)
			}
			what := "join expression " + names[0]
			if len(names) > 1 {
				what = "join expressions " + strings.Join(names, " or ")
			}
			return nil, fmt.Errorf("Key missing from projection (ie, SELECT). See https://cnfl.io/2LV7ouS.\nThe query used to build `%s` must include the %s in its projection (eg, SELECT %s...).",
				sinkName, what, names[0])
		}
		// The key column holds the join key, also where its source's
		// column is NULL (the other side of an outer join).
		items[keyItem].c = exec.ColumnEval(exec.ScopeColumn{Type: rel.keyType, Index: rel.keyIdx})
	}
	seen := map[string]bool{}
	for _, it := range items {
		if seen[it.name] {
			return nil, fmt.Errorf("Duplicate column names in the projection: `%s`. Use AS to give each column its own name.", it.name)
		}
		seen[it.name] = true
		if kind != pushKind && reservedColumns[it.name] {
			return nil, fmt.Errorf("Reserved column name in select: `%s`. Please remove or alias the column.", it.name)
		}
	}

	// The result takes the left source's formats (CREATE ... AS SELECT
	// inherits them); a keyless left source gives the key format of the
	// first source that has one, as ksqlDB's join key format resolution.
	first := *rel.sources[0].src
	if first.KeyFormat.Name == "NONE" {
		first.KeyFormat = Format{Name: "KAFKA"}
		for _, s := range rel.sources {
			if s.src.KeyFormat.Name != "NONE" {
				first.KeyFormat = s.src.KeyFormat
				break
			}
		}
	}
	p := &planned{source: &first, stateful: true, repartitions: jp.repartitions, window: rel.window}
	for _, s := range rel.sources {
		p.sources = append(p.sources, s.src)
	}
	evals := make([]exec.Eval, len(items))
	names := make([]string, len(items))
	for i, it := range items {
		evals[i], names[i] = it.c.Eval, it.name
		p.columns = append(p.columns, types.Column{Name: it.name, Type: it.c.Type, Key: i == keyItem || slices.Contains(partitionKeys, i)})
		p.exprs = append(p.exprs, it.expr)
	}
	project := &exec.Project{Exprs: evals, Names: names}
	if keyItem >= 0 {
		project.Keys = []int{keyItem}
	}
	if len(partitionKeys) > 0 {
		project.Keys = partitionKeys
	}
	var head exec.Operator = project
	switch {
	case where != nil && rel.setWhere != nil:
		rel.setWhere(where)
	case where != nil:
		head = &exec.Filter{Pred: where, Next: project}
	}
	rel.connect(head)
	p.inputs = rel.inputs
	p.setNext = func(o exec.Operator) { project.Next = o }
	p.project = project
	return p, nil
}
