package ast

// SourceKind tells a STREAM from a TABLE.
type SourceKind int

// The source kinds.
const (
	Stream SourceKind = iota + 1
	Table
)

func (k SourceKind) String() string {
	if k == Table {
		return "TABLE"
	}
	return "STREAM"
}

// Property is one name = value of a WITH (...) list. Name is upper-cased
// when written as a bare identifier (KAFKA_TOPIC) and kept as written when
// quoted ('connector.class'); ksqlDB's source properties are matched
// case-insensitively, connector properties exactly. Value is a literal:
// StringLit, IntLit, BigintLit, DecimalLit, DoubleLit, BoolLit or NullLit.
type Property struct {
	Pos
	Name  string
	Value Expr
}

// Properties is a WITH (...) list in written order.
type Properties []Property

// Get returns the value of the property named name, compared
// case-insensitively, or nil.
func (ps Properties) Get(name string) Expr {
	for _, p := range ps {
		if equalFold(p.Name, name) {
			return p.Value
		}
	}
	return nil
}

// Constraint is a column's role in CREATE STREAM/TABLE.
type Constraint int

// The column constraints.
const (
	NoConstraint Constraint = iota
	Key                     // KEY: a stream's key column
	PrimaryKey              // PRIMARY KEY: a table's key column
	Headers                 // HEADERS: all headers, ARRAY<STRUCT<KEY STRING, VALUE BYTES>>
	Header                  // HEADER('k'): the last header with key HeaderKey, BYTES
)

// TableElement is a column definition.
type TableElement struct {
	Pos
	Name       string
	Type       *Type
	Constraint Constraint
	HeaderKey  string // for Header
}

// CreateSource is CREATE [OR REPLACE] [SOURCE] STREAM|TABLE [IF NOT EXISTS]
// name [(elements)] [WITH (props)]. Elements may be empty when the schema is
// inferred from the registry. Source marks a read-only source.
type CreateSource struct {
	Pos
	Kind        SourceKind
	OrReplace   bool
	Source      bool
	IfNotExists bool
	Name        string
	Elements    []TableElement
	Props       Properties
}

// CreateAsSelect is CREATE [OR REPLACE] STREAM|TABLE [IF NOT EXISTS] name
// [WITH (props)] AS SELECT ... (CSAS / CTAS).
type CreateAsSelect struct {
	Pos
	Kind        SourceKind
	OrReplace   bool
	IfNotExists bool
	Name        string
	Props       Properties
	Query       *Query
}

// InsertInto is INSERT INTO target [WITH (props)] SELECT ...
type InsertInto struct {
	Pos
	Target string
	Props  Properties
	Query  *Query
}

// InsertValues is INSERT INTO target [(columns)] VALUES (values). Without
// columns the values follow the target's columns in order.
type InsertValues struct {
	Pos
	Target  string
	Columns []string
	Values  []Expr
}

// EmitMode is a query's EMIT clause.
type EmitMode int

// The emit modes. EmitNone (no EMIT clause) makes a pull query.
const (
	EmitNone EmitMode = iota
	EmitChanges
	EmitFinal
)

// Query is SELECT ... FROM ... [WINDOW] [WHERE] [GROUP BY] [PARTITION BY]
// [HAVING] [EMIT CHANGES|FINAL] [LIMIT n]. On its own it is a push query
// (with EMIT) or a pull query (without); it is also the body of
// CreateAsSelect and InsertInto. Nil fields and empty lists are absent
// clauses.
type Query struct {
	Pos
	Select      []SelectItem
	From        Relation
	Window      *Window
	Where       Expr
	GroupBy     []Expr
	PartitionBy []Expr
	Having      Expr
	Emit        EmitMode
	Limit       *int64
}

// SelectItem is one item of a SELECT list: *SelectExpr, *SelectAll or
// *SelectStructAll.
type SelectItem interface {
	Node
	selectItem()
}

// SelectExpr is expr [AS alias]; Alias is "" when absent (the engine names
// the column).
type SelectExpr struct {
	Pos
	Expr  Expr
	Alias string
}

// SelectAll is * (Source "") or src.* (all columns of one source).
type SelectAll struct {
	Pos
	Source string
}

// SelectStructAll is expr->*: all fields of a STRUCT as columns.
type SelectStructAll struct {
	Pos
	Base Expr
}

// Relation is what a query reads: *Source or *Join.
type Relation interface {
	Node
	relation()
}

// Source is a stream or table named in FROM or JOIN, with an optional alias.
type Source struct {
	Pos
	Name  string
	Alias string // "" when absent
}

// Ref is the name columns of this source are qualified with: the alias if
// any, else the name.
func (s *Source) Ref() string {
	if s.Alias != "" {
		return s.Alias
	}
	return s.Name
}

// JoinType is the kind of a JOIN.
type JoinType int

// The join types.
const (
	InnerJoin JoinType = iota + 1
	LeftJoin
	RightJoin
	FullJoin
)

// Join is Left [INNER|LEFT|RIGHT|FULL] JOIN Right [WITHIN ...] ON On. A
// multi-way join nests to the left: a JOIN b ... JOIN c is
// Join{Left: Join{a, b}, Right: c}.
type Join struct {
	Pos
	Type   JoinType
	Left   Relation
	Right  *Source
	Within *JoinWindow // stream-stream joins only
	On     Expr
}

// Duration is n UNIT, as in windows, WITHIN, GRACE PERIOD and TIMEOUT.
type Duration struct {
	Pos
	Value int64
	Unit  TimeUnit
}

// Millis returns the duration in milliseconds.
func (d Duration) Millis() int64 {
	switch d.Unit {
	case Seconds:
		return d.Value * 1000
	case Minutes:
		return d.Value * 60_000
	case Hours:
		return d.Value * 3_600_000
	case Days:
		return d.Value * 86_400_000
	}
	return d.Value
}

// JoinWindow is WITHIN n UNIT (Before == After, Symmetric) or WITHIN (before,
// after), with an optional GRACE PERIOD.
type JoinWindow struct {
	Pos
	Symmetric     bool
	Before, After Duration
	Grace         *Duration
}

// WindowKind is a window's kind.
type WindowKind int

// The window kinds.
const (
	Tumbling WindowKind = iota + 1
	Hopping
	Session
)

// Window is WINDOW TUMBLING (SIZE ...), HOPPING (SIZE ..., ADVANCE BY ...)
// or SESSION (gap). Size is the size, or the inactivity gap of a session
// window; Advance is set for hopping windows only. Retention and Grace are
// nil when absent (ksqlDB's defaults apply). A window name written before the
// kind (WINDOW w TUMBLING ...), which ksqlDB's grammar allows and ignores, is
// dropped.
type Window struct {
	Pos
	Kind      WindowKind
	Size      Duration
	Advance   *Duration
	Retention *Duration
	Grace     *Duration
}

// CreateType is CREATE TYPE [IF NOT EXISTS] name AS type.
type CreateType struct {
	Pos
	IfNotExists bool
	Name        string
	Type        *Type
}

// DropType is DROP TYPE [IF EXISTS] name.
type DropType struct {
	Pos
	IfExists bool
	Name     string
}

// AlterSource is ALTER STREAM|TABLE name ADD [COLUMN] c T [, ADD ...]; the
// columns have no constraint.
type AlterSource struct {
	Pos
	Kind    SourceKind
	Name    string
	Columns []TableElement
}

// DropSource is DROP STREAM|TABLE [IF EXISTS] name [DELETE TOPIC].
type DropSource struct {
	Pos
	Kind        SourceKind
	IfExists    bool
	Name        string
	DeleteTopic bool
}

// ShowKind is what SHOW/LIST lists.
type ShowKind int

// The things SHOW lists.
const (
	ShowStreams ShowKind = iota + 1
	ShowTables
	ShowTopics
	ShowQueries
	ShowProperties
	ShowFunctions
	ShowTypes
	ShowVariables
	ShowConnectors
	ShowConnectorPlugins
)

// ConnectorKind is SOURCE or SINK.
type ConnectorKind int

// The connector kinds; AnyConnector is SHOW CONNECTORS without a kind.
const (
	AnyConnector ConnectorKind = iota
	SourceConnector
	SinkConnector
)

// Show is SHOW|LIST STREAMS|TABLES|[ALL] TOPICS|QUERIES [EXTENDED],
// PROPERTIES, FUNCTIONS, TYPES, VARIABLES, [SOURCE|SINK] CONNECTORS or
// CONNECTOR PLUGINS. LIST is the same statement as SHOW.
type Show struct {
	Pos
	What      ShowKind
	Extended  bool          // STREAMS, TABLES, TOPICS, QUERIES
	All       bool          // ALL TOPICS: internal topics too
	Connector ConnectorKind // CONNECTORS
}

// Describe is DESCRIBE name [EXTENDED].
type Describe struct {
	Pos
	Name     string
	Extended bool
}

// DescribeSources is DESCRIBE STREAMS|TABLES [EXTENDED].
type DescribeSources struct {
	Pos
	Kind     SourceKind
	Extended bool
}

// DescribeFunction is DESCRIBE FUNCTION name.
type DescribeFunction struct {
	Pos
	Name string
}

// DescribeConnector is DESCRIBE CONNECTOR name.
type DescribeConnector struct {
	Pos
	Name string
}

// Explain is EXPLAIN query-id (QueryID set) or EXPLAIN statement.
type Explain struct {
	Pos
	QueryID   string
	Statement Statement
}

// Terminate is TERMINATE query-id | ALL.
type Terminate struct {
	Pos
	QueryID string
	All     bool
}

// Pause is PAUSE query-id | ALL.
type Pause struct {
	Pos
	QueryID string
	All     bool
}

// Resume is RESUME query-id | ALL.
type Resume struct {
	Pos
	QueryID string
	All     bool
}

// SetProperty is SET 'name' = 'value' (session scope).
type SetProperty struct {
	Pos
	Name, Value string
}

// AlterSystem is ALTER SYSTEM 'name' = 'value' (cluster scope).
type AlterSystem struct {
	Pos
	Name, Value string
}

// UnsetProperty is UNSET 'name'.
type UnsetProperty struct {
	Pos
	Name string
}

// DefineVariable is DEFINE name = 'value'. Variable names are
// case-insensitive; Name is as written.
type DefineVariable struct {
	Pos
	Name, Value string
}

// UndefineVariable is UNDEFINE name.
type UndefineVariable struct {
	Pos
	Name string
}

// Print is PRINT topic [FROM BEGINNING] [INTERVAL|SAMPLE n] [LIMIT n]. Topic
// names are case-sensitive: Topic is as written, whether quoted or not.
type Print struct {
	Pos
	Topic         string
	FromBeginning bool
	Interval      *int64
	Limit         *int64
}

// CreateConnector is CREATE SOURCE|SINK CONNECTOR [IF NOT EXISTS] name WITH
// (props). Property names keep their case when quoted.
type CreateConnector struct {
	Pos
	Kind        ConnectorKind
	IfNotExists bool
	Name        string
	Props       Properties
}

// DropConnector is DROP CONNECTOR [IF EXISTS] name.
type DropConnector struct {
	Pos
	IfExists bool
	Name     string
}

// AssertTopic is ASSERT [NOT EXISTS] TOPIC name [WITH (props)]
// [TIMEOUT n unit]. Topic names are case-sensitive: Name is as written.
type AssertTopic struct {
	Pos
	NotExists bool
	Name      string
	Props     Properties
	Timeout   *Duration
}

// AssertSchema is ASSERT [NOT EXISTS] SCHEMA [SUBJECT s] [ID n]
// [TIMEOUT n unit]; at least one of Subject and ID is set. Subject is as
// written (case-sensitive).
type AssertSchema struct {
	Pos
	NotExists bool
	Subject   string
	ID        *int64
	Timeout   *Duration
}

// AssertValues is ASSERT VALUES source [(columns)] VALUES (values), a
// statement of ksqlDB's run-ksql-test files (parser.ParseTestStatements
// only): the next record of source must hold these values.
type AssertValues struct {
	Pos
	Source  string
	Columns []string
	Values  []Expr
}

// AssertTombstone is ASSERT NULL VALUES source [(columns)] KEY (values), a
// test statement: the next record of source must be a tombstone with this
// key.
type AssertTombstone struct {
	Pos
	Source  string
	Columns []string
	Key     []Expr
}

// AssertSource is ASSERT STREAM|TABLE name [(elements)] [WITH (props)], a
// test statement: the source must exist with this schema and properties.
type AssertSource struct {
	Pos
	Kind     SourceKind
	Name     string
	Elements []TableElement
	Props    Properties
}

// RunScript is RUN SCRIPT 'path' (a CLI statement).
type RunScript struct {
	Pos
	Path string
}

func (*CreateSource) stmtNode()      {}
func (*CreateAsSelect) stmtNode()    {}
func (*InsertInto) stmtNode()        {}
func (*InsertValues) stmtNode()      {}
func (*Query) stmtNode()             {}
func (*CreateType) stmtNode()        {}
func (*DropType) stmtNode()          {}
func (*AlterSource) stmtNode()       {}
func (*DropSource) stmtNode()        {}
func (*Show) stmtNode()              {}
func (*Describe) stmtNode()          {}
func (*DescribeSources) stmtNode()   {}
func (*DescribeFunction) stmtNode()  {}
func (*DescribeConnector) stmtNode() {}
func (*Explain) stmtNode()           {}
func (*Terminate) stmtNode()         {}
func (*Pause) stmtNode()             {}
func (*Resume) stmtNode()            {}
func (*SetProperty) stmtNode()       {}
func (*AlterSystem) stmtNode()       {}
func (*UnsetProperty) stmtNode()     {}
func (*DefineVariable) stmtNode()    {}
func (*UndefineVariable) stmtNode()  {}
func (*Print) stmtNode()             {}
func (*CreateConnector) stmtNode()   {}
func (*DropConnector) stmtNode()     {}
func (*AssertTopic) stmtNode()       {}
func (*AssertSchema) stmtNode()      {}
func (*RunScript) stmtNode()         {}
func (*AssertValues) stmtNode()      {}
func (*AssertTombstone) stmtNode()   {}
func (*AssertSource) stmtNode()      {}

func (*SelectExpr) selectItem()      {}
func (*SelectAll) selectItem()       {}
func (*SelectStructAll) selectItem() {}

func (*Source) relation() {}
func (*Join) relation()   {}
