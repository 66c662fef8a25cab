package postgres

import (
	"fmt"
	"log/slog"
	"regexp"
	"strings"

	"github.com/sluicedata/sluice/connect"
)

// Version is reported in source.version.
const Version = "sluice-1.0"

var slotNameRe = regexp.MustCompile(`^[a-z0-9_]{1,63}$`)

// Spec declares the postgres-cdc connector and its config keys (Debezium's names).
var Spec = connect.Spec{
	Name:    "postgres-cdc",
	Aliases: []string{"io.debezium.connector.postgresql.PostgresConnector", "PostgresConnector"},
	Kind:    connect.SourceKind,
	Version: Version,
	Doc: "Change data capture from PostgreSQL by logical replication (pgoutput), Debezium-compatible: " +
		"the same config keys, topics, keys, envelopes and type mapping as Debezium's PostgreSQL connector. " +
		"Guide (events, snapshots, offsets, server setup): docs/connect/postgres-cdc.md.",
	Fields: []connect.FieldSpec{
		{Name: "database.hostname", Type: connect.TypeString, Required: true, Importance: "HIGH", Group: "Connection", Doc: "Host of the PostgreSQL server."},
		{Name: "database.port", Type: connect.TypeInt, Default: "5432", Importance: "HIGH", Group: "Connection", Doc: "Port of the PostgreSQL server."},
		{Name: "database.user", Type: connect.TypeString, Required: true, Importance: "HIGH", Group: "Connection", Doc: "Role to connect as; it needs the REPLICATION attribute and SELECT on the captured tables."},
		{Name: "database.password", Type: connect.TypePassword, Importance: "HIGH", Group: "Connection", Doc: "Password of the role."},
		{Name: "database.dbname", Type: connect.TypeString, Required: true, Importance: "HIGH", Group: "Connection", Doc: "Database to capture."},
		{Name: "database.sslmode", Type: connect.TypeString, Default: "disable", Importance: "MEDIUM", Group: "Connection", Recommended: []string{"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}, Doc: "TLS to the server, as libpq's sslmode: disable, allow, prefer, require, verify-ca or verify-full."},
		{Name: "topic.prefix", Type: connect.TypeString, Required: true, Importance: "HIGH", Group: "Events", Doc: "Logical server name: prefix of every topic and the source partition of the offsets.",
			Validate: func(v string) error {
				if !regexp.MustCompile(`^[A-Za-z0-9._-]+$`).MatchString(v) {
					return fmt.Errorf("only letters, digits, '.', '_' and '-' are allowed")
				}
				return nil
			}},
		{Name: "topic.delimiter", Type: connect.TypeString, Default: ".", Importance: "LOW", Group: "Events", Doc: "Delimiter between the parts of topic names."},
		{Name: "plugin.name", Type: connect.TypeString, Default: "pgoutput", Importance: "MEDIUM", Group: "Replication", Recommended: []string{"pgoutput"}, Doc: "Logical decoding plugin; only pgoutput (built into PostgreSQL 10+) is supported."},
		{Name: "slot.name", Type: connect.TypeString, Default: "debezium", Importance: "MEDIUM", Group: "Replication", Doc: "Replication slot, one per connector.",
			Validate: func(v string) error {
				if !slotNameRe.MatchString(v) {
					return fmt.Errorf("slot names are 1 to 63 characters of [a-z0-9_]")
				}
				return nil
			}},
		{Name: "slot.drop.on.stop", Type: connect.TypeBoolean, Default: "false", Importance: "LOW", Group: "Replication", Doc: "Drop the slot when the task stops (tests and throw-away setups only: the next start cannot resume)."},
		{Name: "publication.name", Type: connect.TypeString, Default: "dbz_publication", Importance: "MEDIUM", Group: "Replication", Doc: "Publication read by pgoutput."},
		{Name: "publication.autocreate.mode", Type: connect.TypeString, Default: "all_tables", Importance: "MEDIUM", Group: "Replication", Recommended: []string{"all_tables", "filtered", "no_tables", "disabled"},
			Doc: "all_tables: create the publication FOR ALL TABLES when missing (needs superuser); filtered: create it for the captured tables, and set its tables to them on each start; no_tables: create it without tables (you add them); disabled: the publication must exist."},
		{Name: "slot.max.retries", Type: connect.TypeInt, Default: "6", Importance: "LOW", Group: "Replication", Doc: "How many retry delays to wait at start for a slot still held by another connection (a task restarted right after its predecessor)."},
		{Name: "slot.retry.delay.ms", Type: connect.TypeLong, Default: "10000", Importance: "LOW", Group: "Replication", Doc: "Length of one retry delay for a slot in use."},
		{Name: "errors.max.retries", Type: connect.TypeInt, Default: "-1", Importance: "LOW", Group: "Replication", Doc: "Reconnections tried in a row after the replication connection is lost (-1: no limit, 0: fail at once). Streaming resumes after the last change handed over, with no duplicate."},
		{Name: "retriable.restart.connector.wait.ms", Type: connect.TypeLong, Default: "10000", Importance: "LOW", Group: "Replication", Doc: "Longest wait between reconnection attempts (they start at 0.5 s and grow)."},
		{Name: "publish.via.partition.root", Type: connect.TypeBoolean, Default: "false", Importance: "LOW", Group: "Replication", Doc: "Create (or, in filtered mode, alter) the publication with publish_via_partition_root, so changes of partitions arrive as changes of the partitioned table, on its topic, as the snapshot reads them."},
		{Name: "status.update.interval.ms", Type: connect.TypeInt, Default: "10000", Importance: "LOW", Group: "Replication", Doc: "Longest time between standby status updates sent to the server."},
		{Name: "offset.mismatch.strategy", Type: connect.TypeString, Default: "no_validation", Importance: "MEDIUM", Group: "Replication", Recommended: []string{"no_validation", "trust_offset", "trust_slot", "trust_greater_lsn"},
			Doc: "What to do at start when slot and stored offset disagree. Slot confirmed past the offset: trust_offset fails (changes in between cannot be replayed), the others stream from the slot and log it. Slot behind the offset: trust_slot emits the replayed changes again, the others skip them up to the offset. A missing slot always fails unless snapshot.mode=when_needed."},
		{Name: "snapshot.mode", Type: connect.TypeString, Default: "initial", Importance: "HIGH", Group: "Snapshot", Recommended: []string{"initial", "always", "initial_only", "no_data", "never", "when_needed"},
			Doc: "initial: snapshot when no offset is stored, then stream; always: snapshot on every start; initial_only: snapshot, then stop; no_data (never): stream only; when_needed: like initial, and take a new snapshot when the offsets cannot be used (slot gone)."},
		{Name: "snapshot.fetch.size", Type: connect.TypeInt, Default: "10240", Importance: "LOW", Group: "Snapshot", Doc: "Rows per snapshot chunk (one SELECT ... ORDER BY key LIMIT n each); the chunk position is stored in the offsets so a restarted snapshot resumes there."},
		{Name: "signal.data.collection", Type: connect.TypeString, Importance: "LOW", Group: "Snapshot", Doc: "Signal table (schema.table) with columns id, type, data: an execute-snapshot row starts an incremental snapshot of its data-collections while streaming continues. The connector writes its watermark rows there too, so the role needs INSERT on it."},
		{Name: "incremental.snapshot.chunk.size", Type: connect.TypeInt, Default: "1024", Importance: "LOW", Group: "Snapshot", Doc: "Rows per chunk of incremental snapshots."},
		{Name: "schema.include.list", Type: connect.TypeList, Importance: "MEDIUM", Group: "Filters", Doc: "Regular expressions of schemas to capture."},
		{Name: "schema.exclude.list", Type: connect.TypeList, Importance: "MEDIUM", Group: "Filters", Doc: "Regular expressions of schemas not to capture."},
		{Name: "table.include.list", Type: connect.TypeList, Importance: "HIGH", Group: "Filters", Doc: "Regular expressions of schema.table names to capture (default: every table outside the system schemas)."},
		{Name: "table.exclude.list", Type: connect.TypeList, Importance: "MEDIUM", Group: "Filters", Doc: "Regular expressions of schema.table names not to capture."},
		{Name: "column.include.list", Type: connect.TypeList, Importance: "MEDIUM", Group: "Filters", Doc: "Regular expressions of schema.table.column names to keep in the events."},
		{Name: "column.exclude.list", Type: connect.TypeList, Importance: "MEDIUM", Group: "Filters", Doc: "Regular expressions of schema.table.column names to leave out of the events (key columns stay in the key)."},
		{Name: "message.key.columns", Type: connect.TypeString, Importance: "LOW", Group: "Events", Doc: "Message keys other than the primary key: <schema.table regex>:<column>,<column>;... (tables without a primary key get a key this way). Snapshot chunks still follow the primary key."},
		{Name: "message.prefix.include.list", Type: connect.TypeList, Importance: "LOW", Group: "Events", Doc: "Regular expressions of logical decoding message prefixes to emit (pg_logical_emit_message, PostgreSQL 14+); default all."},
		{Name: "message.prefix.exclude.list", Type: connect.TypeList, Importance: "LOW", Group: "Events", Doc: "Regular expressions of logical decoding message prefixes not to emit."},
		{Name: "skipped.operations", Type: connect.TypeList, Default: "t", Importance: "LOW", Group: "Events", Doc: "Operations not emitted: c, u, d, t (truncate); none for all."},
		{Name: "tombstones.on.delete", Type: connect.TypeBoolean, Default: "true", Importance: "MEDIUM", Group: "Events", Doc: "Follow each delete with a tombstone (same key, null value) for compaction."},
		{Name: "provide.transaction.metadata", Type: connect.TypeBoolean, Default: "false", Importance: "LOW", Group: "Events", Doc: "Emit BEGIN and END events to <topic.prefix>.transaction and a transaction block in each event."},
		{Name: "topic.transaction", Type: connect.TypeString, Default: "transaction", Importance: "LOW", Group: "Events", Doc: "Suffix of the transaction metadata topic."},
		{Name: "heartbeat.interval.ms", Type: connect.TypeInt, Default: "0", Importance: "MEDIUM", Group: "Events", Doc: "Emit a heartbeat to __debezium-heartbeat.<topic.prefix> this often while streaming, carrying the position reached (0: off)."},
		{Name: "heartbeat.action.query", Type: connect.TypeString, Importance: "LOW", Group: "Events", Doc: "Statement run on the database with each heartbeat, e.g. an upsert into a heartbeat table in the publication, so the slot advances when only other databases of the server are busy."},
		{Name: "topic.heartbeat.prefix", Type: connect.TypeString, Default: "__debezium-heartbeat", Importance: "LOW", Group: "Events", Doc: "Prefix of the heartbeat topic."},
		{Name: "decimal.handling.mode", Type: connect.TypeString, Default: "precise", Importance: "MEDIUM", Group: "Types", Recommended: []string{"precise", "double", "string"}, Doc: "NUMERIC, DECIMAL and MONEY as Connect Decimal (precise), FLOAT64 or STRING."},
		{Name: "time.precision.mode", Type: connect.TypeString, Default: "adaptive", Importance: "MEDIUM", Group: "Types", Recommended: []string{"adaptive", "adaptive_time_microseconds", "connect"}, Doc: "Temporal types as Debezium's io.debezium.time types at the column's precision (adaptive), with TIME always in µs, or as Connect's Date/Time/Timestamp (ms)."},
		{Name: "binary.handling.mode", Type: connect.TypeString, Default: "bytes", Importance: "LOW", Group: "Types", Recommended: []string{"bytes", "base64", "base64-url-safe", "hex"}, Doc: "BYTEA as bytes or as an encoded string."},
		{Name: "interval.handling.mode", Type: connect.TypeString, Default: "numeric", Importance: "LOW", Group: "Types", Recommended: []string{"numeric", "string"}, Doc: "INTERVAL as µs (io.debezium.time.MicroDuration) or ISO-8601 text (io.debezium.time.Interval)."},
		{Name: "hstore.handling.mode", Type: connect.TypeString, Default: "json", Importance: "LOW", Group: "Types", Recommended: []string{"json", "map"}, Doc: "HSTORE as a JSON string or a Connect map."},
		{Name: "include.unknown.datatypes", Type: connect.TypeBoolean, Default: "false", Importance: "LOW", Group: "Types", Doc: "Keep columns of types without a mapping, as their text; false leaves them out."},
		{Name: "money.fraction.digits", Type: connect.TypeInt, Default: "2", Importance: "LOW", Group: "Types", Doc: "Scale of MONEY values."},
		{Name: "unavailable.value.placeholder", Type: connect.TypeString, Default: "__debezium_unavailable_value", Importance: "LOW", Group: "Types", Doc: "Value put in place of unchanged TOAST columns the server did not send."},
		{Name: "max.batch.size", Type: connect.TypeInt, Default: "2048", Importance: "LOW", Group: "Performance", Doc: "Most records returned by one poll."},
		{Name: "max.queue.size", Type: connect.TypeInt, Default: "8192", Importance: "LOW", Group: "Performance", Doc: "Changes buffered between the replication stream and polls."},
	},
}

// conf is a validated config.
type conf struct {
	log                         *slog.Logger
	host, user, password        string
	port                        int
	dbname, sslmode             string
	topicPrefix, delimiter      string
	slot, publication, autoPub  string
	dropSlot                    bool
	statusInterval              int64
	slotRetries, slotRetryDelay int64
	maxRetries, retryWaitMS     int64
	mismatch                    string
	snapshotMode                string
	fetchSize                   int
	schemaInc, schemaExc        filter
	tableInc, tableExc          filter
	colInc, colExc              filter
	skip                        map[string]bool
	tombstones, txMeta          bool
	txTopic, heartbeatTopic     string
	heartbeatMS                 int64
	heartbeatQuery              string
	keyColumns                  []keyOverride
	msgInc, msgExc              filter
	messageTopic                string
	viaRoot                     bool
	types                       typeOptions
	placeholder                 string
	maxBatch, maxQueue          int
	signalTable                 string // schema.table, empty without signals
	incChunk                    int
	prefixV, dbV                any // boxed once for the source blocks
}

func parseConf(cfg connect.Config, log *slog.Logger) (*conf, error) {
	if errs := Spec.Validate(cfg); len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Error()
		}
		return nil, fmt.Errorf("postgres-cdc config: %s", strings.Join(msgs, "; "))
	}
	s := &Spec
	c := &conf{
		log:            log,
		host:           cfg.String(s, "database.hostname"),
		port:           int(cfg.Int(s, "database.port")),
		user:           cfg.String(s, "database.user"),
		password:       cfg.String(s, "database.password"),
		dbname:         cfg.String(s, "database.dbname"),
		sslmode:        cfg.String(s, "database.sslmode"),
		topicPrefix:    cfg.String(s, "topic.prefix"),
		delimiter:      cfg.String(s, "topic.delimiter"),
		slot:           cfg.String(s, "slot.name"),
		publication:    cfg.String(s, "publication.name"),
		autoPub:        strings.ToLower(cfg.String(s, "publication.autocreate.mode")),
		dropSlot:       cfg.Bool(s, "slot.drop.on.stop"),
		statusInterval: cfg.Int(s, "status.update.interval.ms"),
		slotRetries:    cfg.Int(s, "slot.max.retries"),
		maxRetries:     cfg.Int(s, "errors.max.retries"),
		retryWaitMS:    cfg.Int(s, "retriable.restart.connector.wait.ms"),
		slotRetryDelay: cfg.Int(s, "slot.retry.delay.ms"),
		mismatch:       strings.ToLower(cfg.String(s, "offset.mismatch.strategy")),
		snapshotMode:   strings.ToLower(cfg.String(s, "snapshot.mode")),
		fetchSize:      int(cfg.Int(s, "snapshot.fetch.size")),
		tombstones:     cfg.Bool(s, "tombstones.on.delete"),
		txMeta:         cfg.Bool(s, "provide.transaction.metadata"),
		heartbeatMS:    cfg.Int(s, "heartbeat.interval.ms"),
		heartbeatQuery: cfg.String(s, "heartbeat.action.query"),
		viaRoot:        cfg.Bool(s, "publish.via.partition.root"),
		placeholder:    cfg.String(s, "unavailable.value.placeholder"),
		maxBatch:       int(cfg.Int(s, "max.batch.size")),
		maxQueue:       int(cfg.Int(s, "max.queue.size")),
		types: typeOptions{
			decimal:       strings.ToLower(cfg.String(s, "decimal.handling.mode")),
			timePrecision: strings.ToLower(cfg.String(s, "time.precision.mode")),
			binary:        strings.ToLower(cfg.String(s, "binary.handling.mode")),
			interval:      strings.ToLower(cfg.String(s, "interval.handling.mode")),
			hstore:        strings.ToLower(cfg.String(s, "hstore.handling.mode")),
			unknown:       cfg.Bool(s, "include.unknown.datatypes"),
			moneyDigits:   int(cfg.Int(s, "money.fraction.digits")),
		},
	}
	c.prefixV, c.dbV = c.topicPrefix, c.dbname
	c.messageTopic = c.topicPrefix + c.delimiter + "message"
	c.txTopic = c.topicPrefix + c.delimiter + cfg.String(s, "topic.transaction")
	c.heartbeatTopic = cfg.String(s, "topic.heartbeat.prefix") + "." + c.topicPrefix
	if c.snapshotMode == "never" {
		c.snapshotMode = "no_data"
	}
	if c.fetchSize <= 0 || c.maxBatch <= 0 || c.maxQueue <= 0 {
		return nil, fmt.Errorf("postgres-cdc config: snapshot.fetch.size, max.batch.size and max.queue.size must be positive")
	}
	c.skip = map[string]bool{}
	for _, op := range cfg.List(s, "skipped.operations") {
		switch op = strings.ToLower(op); op {
		case "none":
		case "c", "u", "d", "t":
			c.skip[op] = true
		default:
			return nil, fmt.Errorf("postgres-cdc config: skipped.operations: unknown operation %q (use c, u, d, t or none)", op)
		}
	}
	var err error
	for _, f := range []struct {
		key string
		dst *filter
	}{{"schema.include.list", &c.schemaInc}, {"schema.exclude.list", &c.schemaExc}, {"table.include.list", &c.tableInc},
		{"table.exclude.list", &c.tableExc}, {"column.include.list", &c.colInc}, {"column.exclude.list", &c.colExc},
		{"message.prefix.include.list", &c.msgInc}, {"message.prefix.exclude.list", &c.msgExc}} {
		if *f.dst, err = compileFilter(f.key, cfg.List(s, f.key)); err != nil {
			return nil, fmt.Errorf("postgres-cdc config: %w", err)
		}
	}
	if len(c.tableInc) > 0 && len(c.tableExc) > 0 {
		return nil, fmt.Errorf("postgres-cdc config: table.include.list and table.exclude.list cannot both be set")
	}
	if len(c.colInc) > 0 && len(c.colExc) > 0 {
		return nil, fmt.Errorf("postgres-cdc config: column.include.list and column.exclude.list cannot both be set")
	}
	if c.keyColumns, err = parseKeyColumns(cfg.String(s, "message.key.columns")); err != nil {
		return nil, fmt.Errorf("postgres-cdc config: %w", err)
	}
	c.signalTable = cfg.String(s, "signal.data.collection")
	c.incChunk = int(cfg.Int(s, "incremental.snapshot.chunk.size"))
	if c.signalTable != "" && !strings.Contains(c.signalTable, ".") {
		return nil, fmt.Errorf("postgres-cdc config: signal.data.collection %q must be schema.table", c.signalTable)
	}
	if c.incChunk <= 0 {
		return nil, fmt.Errorf("postgres-cdc config: incremental.snapshot.chunk.size must be positive")
	}
	return c, nil
}

func (c *conf) tableIncluded(schema, name string) bool {
	if schema == "pg_catalog" || schema == "information_schema" || strings.HasPrefix(schema, "pg_toast") || strings.HasPrefix(schema, "pg_temp") {
		return false
	}
	if len(c.schemaInc) > 0 && !c.schemaInc.Match(schema) || c.schemaExc.Match(schema) {
		return false
	}
	id := schema + "." + name
	if len(c.tableInc) > 0 {
		return c.tableInc.Match(id)
	}
	return !c.tableExc.Match(id)
}

func (c *conf) columnIncluded(tableID, col string) bool {
	id := tableID + "." + col
	if len(c.colInc) > 0 {
		return c.colInc.Match(id)
	}
	return !c.colExc.Match(id)
}

func (c *conf) connString(replication bool) string {
	q := func(s string) string {
		return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", `\'`) + "'"
	}
	s := fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=%s application_name=%s", q(c.host), c.port, q(c.user), q(c.dbname), c.sslmode, q("sluice-postgres-cdc-"+c.slot))
	if c.password != "" {
		s += " password=" + q(c.password)
	}
	if replication {
		s += " replication=database"
	}
	return s
}

func init() {
	connect.Register(connect.Plugin{Spec: Spec, NewSource: func() connect.SourceConnector { return connector{} }})
}

type connector struct{}

// TaskConfigs returns one task: a replication slot has a single reader.
func (connector) TaskConfigs(cfg connect.Config, maxTasks int) ([]connect.Config, error) {
	if _, err := parseConf(cfg, slog.Default()); err != nil {
		return nil, err
	}
	return []connect.Config{cfg}, nil
}

func (connector) NewTask() connect.SourceTask { return &Task{} }
