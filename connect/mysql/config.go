// Package mysql is the mysql-cdc source connector: Debezium-compatible change
// events from a MariaDB or MySQL row-based binlog, with a consistent initial
// snapshot, GTID or file/position resume and DDL tracking.
//
// Invariants:
//   - A record's source offset always names a position the task can restart
//     from without losing an event: the start of the transaction it belongs
//     to plus the number of rows events and rows of it already emitted.
//     Offsets move past a transaction only at its XID (or COMMIT) event.
//   - Table definitions used to decode rows travel in the offset ("schema"),
//     so that a restart decodes the events before an ALTER TABLE with the
//     columns they were written with.
package mysql

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/regexlist"
)

// Version is reported in the source block of every event.
const Version = "sluice-1.0"

// Spec declares the connector's config keys; the names are Debezium's.
var Spec = connect.Spec{
	Name:    "mysql-cdc",
	Aliases: []string{"io.debezium.connector.mysql.MySqlConnector", "io.debezium.connector.mariadb.MariaDbConnector"},
	Kind:    connect.SourceKind,
	Version: Version,
	Doc:     "Streams row changes from a MariaDB or MySQL row-based binlog as Debezium change events, after an optional consistent snapshot.",
	Fields: []connect.FieldSpec{
		{Name: "database.hostname", Type: connect.TypeString, Required: true, Doc: "Host of the MariaDB/MySQL server.", Group: "Connection", Importance: "HIGH"},
		{Name: "database.port", Type: connect.TypeInt, Default: "3306", Doc: "TCP port of the MariaDB/MySQL server.", Group: "Connection", Importance: "HIGH"},
		{Name: "database.user", Type: connect.TypeString, Required: true, Doc: "User with SELECT, REPLICATION SLAVE and REPLICATION CLIENT privileges (RELOAD for the global read lock on MySQL).", Group: "Connection", Importance: "HIGH"},
		{Name: "database.password", Type: connect.TypePassword, Doc: "Password of the user.", Group: "Connection", Importance: "HIGH"},
		{Name: "database.server.id", Type: connect.TypeLong, Default: "5400", Doc: "Replica server id the connector uses on the binlog connection; unique among the server's replicas.", Group: "Connection", Importance: "HIGH", Validate: positive},
		{Name: "topic.prefix", Type: connect.TypeString, Required: true, Doc: "Logical server name: prefix of every topic and the name in the source block.", Group: "Connection", Importance: "HIGH", Validate: topicName},
		{Name: "database.include.list", Type: connect.TypeList, Doc: "Regular expressions of databases to capture (whole-name match). Empty: every non-system database.", Group: "Filters", Importance: "HIGH", Validate: regexList},
		{Name: "database.exclude.list", Type: connect.TypeList, Doc: "Regular expressions of databases not to capture.", Group: "Filters", Importance: "MEDIUM", Validate: regexList},
		{Name: "table.include.list", Type: connect.TypeList, Doc: "Regular expressions of tables to capture, as <db>.<table>.", Group: "Filters", Importance: "HIGH", Validate: regexList},
		{Name: "table.exclude.list", Type: connect.TypeList, Doc: "Regular expressions of tables not to capture, as <db>.<table>.", Group: "Filters", Importance: "MEDIUM", Validate: regexList},
		{Name: "column.include.list", Type: connect.TypeList, Doc: "Regular expressions of columns to keep, as <db>.<table>.<column>. Key columns are always kept in the key.", Group: "Filters", Importance: "MEDIUM", Validate: regexList},
		{Name: "column.exclude.list", Type: connect.TypeList, Doc: "Regular expressions of columns to drop, as <db>.<table>.<column>.", Group: "Filters", Importance: "MEDIUM", Validate: regexList},
		{Name: "message.key.columns", Type: connect.TypeString, Doc: "Custom message keys: <db>.<table regex>:<col>,<col>;... The listed columns form the key instead of the primary key (a change of them is a key change).", Group: "Events", Importance: "LOW", Validate: func(v string) error { _, err := parseKeyColumns(v); return err }},
		{Name: "skipped.operations", Type: connect.TypeList, Default: "t", Doc: "Operations not to emit: c (insert), u (update), d (delete), t (truncate; MySQL binlogs carry none, so it is always skipped), none.", Group: "Events", Importance: "LOW", Validate: func(v string) error {
			for _, o := range strings.Split(v, ",") {
				if o = strings.TrimSpace(o); o != "" && o != "c" && o != "u" && o != "d" && o != "t" && o != "none" {
					return fmt.Errorf("%q is not one of c, u, d, t, none", o)
				}
			}
			return nil
		}},
		{Name: "snapshot.mode", Type: connect.TypeString, Default: "initial", Recommended: []string{"initial", "initial_only", "when_needed", "never", "no_data", "schema_only", "recovery", "schema_only_recovery"}, Doc: "initial: snapshot then stream; initial_only: snapshot and stop; when_needed: snapshot when there is no usable offset; no_data (never, schema_only): stream only from the current position; recovery: rebuild the schema history from the current tables and stream from the stored offset.", Group: "Snapshot", Importance: "HIGH"},
		{Name: "snapshot.locking.mode", Type: connect.TypeString, Default: "minimal", Recommended: []string{"minimal", "none"}, Doc: "minimal: on MySQL, hold FLUSH TABLES WITH READ LOCK while the snapshot transaction starts and the binlog position is read (MariaDB needs no lock: its consistent-snapshot transaction reports its binlog position); none: no lock (only safe without writes during the start of the snapshot).", Group: "Snapshot", Importance: "LOW"},
		{Name: "snapshot.fetch.size", Type: connect.TypeInt, Default: "2000", Doc: "Rows per snapshot chunk (the snapshot reads each table in primary-key order, one chunk per query).", Group: "Snapshot", Importance: "LOW", Validate: positive},
		{Name: "decimal.handling.mode", Type: connect.TypeString, Default: "precise", Recommended: []string{"precise", "double", "string"}, Doc: "DECIMAL as Connect Decimal (precise), FLOAT64 or STRING.", Group: "Types", Importance: "MEDIUM"},
		{Name: "bigint.unsigned.handling.mode", Type: connect.TypeString, Default: "long", Recommended: []string{"long", "precise"}, Doc: "BIGINT UNSIGNED as INT64 (long; values above 2^63-1 wrap) or Decimal with scale 0 (precise).", Group: "Types", Importance: "MEDIUM"},
		{Name: "time.precision.mode", Type: connect.TypeString, Default: "adaptive_time_microseconds", Recommended: []string{"adaptive_time_microseconds", "adaptive", "connect"}, Doc: "adaptive_time_microseconds: DATETIME as Timestamp/MicroTimestamp by precision, TIME as MicroTime; connect: Kafka Connect's Date/Time/Timestamp (ms).", Group: "Types", Importance: "MEDIUM"},
		{Name: "binary.handling.mode", Type: connect.TypeString, Default: "bytes", Recommended: []string{"bytes", "base64", "base64-url-safe", "hex"}, Doc: "BINARY/VARBINARY/BLOB as bytes or as an encoded string.", Group: "Types", Importance: "LOW"},
		{Name: "tombstones.on.delete", Type: connect.TypeBoolean, Default: "true", Doc: "Emit a tombstone (null value) after each delete event.", Group: "Events", Importance: "MEDIUM"},
		{Name: "include.schema.changes", Type: connect.TypeBoolean, Default: "true", Doc: "Emit schema-change events to the topic <topic.prefix>.", Group: "Events", Importance: "MEDIUM"},
		{Name: "include.query", Type: connect.TypeBoolean, Default: "false", Doc: "Put the SQL statement of a change in source.query (needs binlog_annotate_row_events on MariaDB, binlog_rows_query_log_events on MySQL).", Group: "Events", Importance: "LOW"},
		{Name: "provide.transaction.metadata", Type: connect.TypeBoolean, Default: "false", Doc: "Emit BEGIN/END events to <topic.prefix>.transaction and a transaction block in each change event.", Group: "Events", Importance: "LOW"},
		{Name: "heartbeat.interval.ms", Type: connect.TypeInt, Default: "0", Doc: "Emit a heartbeat to __debezium-heartbeat.<topic.prefix> at this interval (0: off); it also moves the offset on while only uncaptured tables change.", Group: "Events", Importance: "LOW"},
		{Name: "topic.heartbeat.prefix", Type: connect.TypeString, Default: "__debezium-heartbeat", Doc: "Prefix of the heartbeat topic.", Group: "Events", Importance: "LOW"},
		{Name: "topic.transaction", Type: connect.TypeString, Default: "transaction", Doc: "Suffix of the transaction metadata topic.", Group: "Events", Importance: "LOW"},
		{Name: "schema.history.internal.kafka.topic", Type: connect.TypeString, Doc: "Accepted for compatibility: the schema history is kept in the connector's source offsets (it survives restarts with them).", Group: "Schema history", Importance: "LOW"},
		{Name: "schema.history.internal.kafka.bootstrap.servers", Type: connect.TypeString, Doc: "Accepted for compatibility; unused (see schema.history.internal.kafka.topic).", Group: "Schema history", Importance: "LOW"},
		{Name: "connect.timeout.ms", Type: connect.TypeInt, Default: "30000", Doc: "Timeout of connection attempts to the server.", Group: "Connection", Importance: "LOW", Validate: positive},
	},
}

func init() {
	connect.Register(connect.Plugin{Spec: Spec, NewSource: func() connect.SourceConnector { return Connector{} }})
}

func positive(v string) error {
	var n int64
	if _, err := fmt.Sscan(v, &n); err != nil || n <= 0 {
		return fmt.Errorf("must be a positive number")
	}
	return nil
}

var topicRe = regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)

func topicName(v string) error {
	if !topicRe.MatchString(v) {
		return fmt.Errorf("may only contain letters, digits, '.', '_' and '-'")
	}
	return nil
}

func regexList(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if _, err := regexp.Compile(p); err != nil {
			return fmt.Errorf("%q is not a regular expression: %v", p, err)
		}
	}
	return nil
}

// conf is the parsed config of a task.
type conf struct {
	host, user, password string
	port                 int
	serverID             uint32
	prefix               string
	dbInclude, dbExclude filter
	tblInclude           filter
	tblExclude           filter
	colInclude           filter
	colExclude           filter
	snapshotMode         string
	lockMinimal          bool
	fetchSize            int
	decimalMode          string
	bigintPrecise        bool
	timeConnect          bool
	binaryMode           string
	tombstones           bool
	schemaChanges        bool
	includeQuery         bool
	txMeta               bool
	heartbeat            time.Duration
	heartbeatTopic       string
	txTopic              string
	connectTimeout       time.Duration
	connectorName        string // "mysql" or "mariadb" in the source block
	keyColumns           []keyColumns
	skipOps              map[string]bool
	sourceSch            *connect.Schema
}

func parseConf(cfg connect.Config) (*conf, error) {
	if errs := Spec.Validate(cfg); len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Error()
		}
		return nil, fmt.Errorf("mysql-cdc config: %s", strings.Join(msgs, "; "))
	}
	s := &Spec
	c := &conf{
		host:           cfg.String(s, "database.hostname"),
		port:           int(cfg.Int(s, "database.port")),
		user:           cfg.String(s, "database.user"),
		password:       cfg.String(s, "database.password"),
		serverID:       uint32(cfg.Int(s, "database.server.id")),
		prefix:         cfg.String(s, "topic.prefix"),
		snapshotMode:   strings.ToLower(cfg.String(s, "snapshot.mode")),
		lockMinimal:    strings.EqualFold(cfg.String(s, "snapshot.locking.mode"), "minimal"),
		fetchSize:      int(cfg.Int(s, "snapshot.fetch.size")),
		decimalMode:    strings.ToLower(cfg.String(s, "decimal.handling.mode")),
		bigintPrecise:  strings.EqualFold(cfg.String(s, "bigint.unsigned.handling.mode"), "precise"),
		timeConnect:    strings.EqualFold(cfg.String(s, "time.precision.mode"), "connect"),
		binaryMode:     strings.ToLower(cfg.String(s, "binary.handling.mode")),
		tombstones:     cfg.Bool(s, "tombstones.on.delete"),
		schemaChanges:  cfg.Bool(s, "include.schema.changes"),
		includeQuery:   cfg.Bool(s, "include.query"),
		txMeta:         cfg.Bool(s, "provide.transaction.metadata"),
		heartbeat:      time.Duration(cfg.Int(s, "heartbeat.interval.ms")) * time.Millisecond,
		connectTimeout: time.Duration(cfg.Int(s, "connect.timeout.ms")) * time.Millisecond,
	}
	c.keyColumns, _ = parseKeyColumns(cfg.String(s, "message.key.columns"))
	c.skipOps = map[string]bool{}
	for _, o := range cfg.List(s, "skipped.operations") {
		c.skipOps[o] = true
	}
	c.connectorName = "mysql"
	if strings.Contains(strings.ToLower(cfg["connector.class"]), "mariadb") {
		c.connectorName = "mariadb"
	}
	c.heartbeatTopic = cfg.String(s, "topic.heartbeat.prefix") + "." + c.prefix
	c.txTopic = c.prefix + "." + cfg.String(s, "topic.transaction")
	switch c.snapshotMode {
	case "never", "schema_only":
		c.snapshotMode = "no_data"
	case "schema_only_recovery":
		c.snapshotMode = "recovery"
	}
	var err error
	for _, f := range []struct {
		dst *filter
		key string
	}{{&c.dbInclude, "database.include.list"}, {&c.dbExclude, "database.exclude.list"}, {&c.tblInclude, "table.include.list"},
		{&c.tblExclude, "table.exclude.list"}, {&c.colInclude, "column.include.list"}, {&c.colExclude, "column.exclude.list"}} {
		if *f.dst, err = compileFilter(f.key, cfg.List(s, f.key)); err != nil {
			return nil, err
		}
	}
	if len(c.dbInclude) > 0 && len(c.dbExclude) > 0 {
		return nil, fmt.Errorf("mysql-cdc config: database.include.list and database.exclude.list cannot be used together")
	}
	if len(c.tblInclude) > 0 && len(c.tblExclude) > 0 {
		return nil, fmt.Errorf("mysql-cdc config: table.include.list and table.exclude.list cannot be used together")
	}
	if len(c.colInclude) > 0 && len(c.colExclude) > 0 {
		return nil, fmt.Errorf("mysql-cdc config: column.include.list and column.exclude.list cannot be used together")
	}
	return c, nil
}

// filter is an include or exclude list; MySQL's match case-insensitively, as
// Debezium's MySQL connector does.
type filter = regexlist.List

func compileFilter(key string, pats []string) (filter, error) {
	f, err := regexlist.Compile(key, pats, true)
	if err != nil {
		return nil, fmt.Errorf("mysql-cdc config: %w", err)
	}
	return f, nil
}

var systemDBs = map[string]bool{"mysql": true, "information_schema": true, "performance_schema": true, "sys": true}

// captures says whether table db.name is captured.
func (c *conf) captures(db, name string) bool {
	if systemDBs[strings.ToLower(db)] {
		return false
	}
	if len(c.dbInclude) > 0 && !c.dbInclude.Match(db) || c.dbExclude.Match(db) {
		return false
	}
	id := db + "." + name
	if len(c.tblInclude) > 0 && !c.tblInclude.Match(id) || c.tblExclude.Match(id) {
		return false
	}
	return true
}

// keepsColumn says whether column col of db.table goes into before/after.
func (c *conf) keepsColumn(db, table, col string) bool {
	id := db + "." + table + "." + col
	if len(c.colInclude) > 0 {
		return c.colInclude.Match(id)
	}
	return !c.colExclude.Match(id)
}

// keyColumns is one entry of message.key.columns.
type keyColumns struct {
	table *regexp.Regexp
	cols  []string
}

func parseKeyColumns(v string) ([]keyColumns, error) {
	var out []keyColumns
	for _, part := range strings.Split(v, ";") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		tbl, cols, ok := strings.Cut(part, ":")
		if !ok || strings.TrimSpace(tbl) == "" || strings.TrimSpace(cols) == "" {
			return nil, fmt.Errorf("%q: want <db>.<table>:<column>,<column>", part)
		}
		re, err := regexp.Compile("(?i)^(?:" + strings.TrimSpace(tbl) + ")$")
		if err != nil {
			return nil, fmt.Errorf("%q: %v", tbl, err)
		}
		k := keyColumns{table: re}
		for _, col := range strings.Split(cols, ",") {
			if col = strings.TrimSpace(col); col != "" {
				k.cols = append(k.cols, col)
			}
		}
		out = append(out, k)
	}
	return out, nil
}
