// Package jdbc is the jdbc-sink connector: it writes records with Connect
// schemas (and Debezium change events, unwrapped on the fly) into PostgreSQL
// and MariaDB/MySQL tables, with the config keys of Confluent's JDBC sink
// (and Debezium's JDBC sink where they differ).
package jdbc

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // db.timezone names must resolve on hosts without zoneinfo

	"github.com/sluicedata/sluice/connect"
)

// Spec declares the JDBC sink's configuration.
var Spec = connect.Spec{
	Name: "jdbc-sink",
	Aliases: []string{"io.confluent.connect.jdbc.JdbcSinkConnector", "io.debezium.connector.jdbc.JdbcSinkConnector",
		"JdbcSinkConnector", "JdbcSink"},
	Kind:    connect.SinkKind,
	Version: "1.0.0",
	Doc: "Writes records into PostgreSQL or MariaDB/MySQL tables: insert, upsert (ON CONFLICT / ON DUPLICATE KEY) " +
		"or update, deletes from tombstones and from Debezium op=d events, tables created and evolved from the " +
		"record schemas. Debezium change events are unwrapped without an SMT. Each Put is one transaction.",
	Fields: []connect.FieldSpec{
		{Name: "connection.url", Type: connect.TypeString, Required: true, Importance: "HIGH", Group: "Connection",
			Doc:      "JDBC URL of the database: jdbc:postgresql://host:5432/db, jdbc:mysql://host:3306/db or jdbc:mariadb://host:3306/db; ?user=&password= are read too.",
			Validate: func(v string) error { _, err := parseURL(v); return err }},
		{Name: "connection.user", Type: connect.TypeString, Importance: "HIGH", Group: "Connection",
			Doc: "Database user (overrides ?user= in the URL). Debezium's connection.username is accepted too."},
		{Name: "connection.password", Type: connect.TypePassword, Importance: "HIGH", Group: "Connection",
			Doc: "Database password (overrides ?password= in the URL)."},
		{Name: "topics", Type: connect.TypeList, Importance: "HIGH", Group: "Common",
			Doc: "Topics to read (or topics.regex), as for every sink connector."},
		{Name: "insert.mode", Type: connect.TypeString, Default: "insert", Importance: "HIGH", Group: "Writes",
			Recommended: []string{"insert", "upsert", "update"},
			Doc:         "insert: plain INSERT; upsert: INSERT ... ON CONFLICT (pk) DO UPDATE (PostgreSQL) or ON DUPLICATE KEY UPDATE (MariaDB/MySQL), idempotent; update: UPDATE ... WHERE pk."},
		{Name: "batch.size", Type: connect.TypeInt, Default: "3000", Importance: "MEDIUM", Group: "Writes",
			Doc: "Most rows written by one multi-row statement.", Validate: positive},
		{Name: "delete.enabled", Type: connect.TypeBoolean, Default: "false", Importance: "MEDIUM", Group: "Writes",
			Doc: "Delete the row of a tombstone's key (needs pk.mode=record_key) and of a Debezium op=d event; off, both are skipped."},
		{Name: "truncate.enabled", Type: connect.TypeBoolean, Default: "false", Importance: "LOW", Group: "Writes",
			Doc: "Truncate the table on a Debezium op=t event (Debezium JDBC sink key); off, such events are skipped."},
		{Name: "pk.mode", Type: connect.TypeString, Default: "none", Importance: "HIGH", Group: "Data Mapping",
			Recommended: []string{"none", "kafka", "record_key", "record_value"},
			Doc:         "Where the primary key comes from: none, kafka (topic, partition, offset), record_key (key fields, or the whole primitive key), record_value (value fields). Debezium's primary.key.mode is accepted too."},
		{Name: "pk.fields", Type: connect.TypeList, Importance: "MEDIUM", Group: "Data Mapping",
			Doc: "Primary-key columns. kafka: three names (default __connect_topic,__connect_partition,__connect_offset); record_key: key fields (default all) or the column of a primitive key (default __connect_key); record_value: value fields (default all)."},
		{Name: "fields.whitelist", Type: connect.TypeList, Importance: "MEDIUM", Group: "Data Mapping",
			Doc: "Value fields to write (default all); key columns are always written. fields.include and Debezium's field.include.list are the same key."},
		{Name: "table.name.format", Type: connect.TypeString, Default: "${topic}", Importance: "MEDIUM", Group: "Data Mapping",
			Doc: "Table of a record: ${topic}, and for Debezium events ${source.db}, ${source.schema}, ${source.table}. Dots separate identifier parts as in Confluent's sink: table, schema.table (database.table on MySQL), database.schema.table (PostgreSQL, database = the connected one)."},
		{Name: "db.timezone", Type: connect.TypeString, Default: "UTC", Importance: "MEDIUM", Group: "Data Mapping",
			Doc:      "Time zone in which timestamps are written to columns without a zone (TIMESTAMP, DATETIME). Debezium's database.time_zone is the same key.",
			Validate: func(v string) error { _, err := time.LoadLocation(v); return err }},
		{Name: "auto.create", Type: connect.TypeBoolean, Default: "false", Importance: "MEDIUM", Group: "DDL Support",
			Doc: "Create a missing table from the record schema (CREATE TABLE IF NOT EXISTS) with the primary key of pk.mode."},
		{Name: "auto.evolve", Type: connect.TypeBoolean, Default: "false", Importance: "MEDIUM", Group: "DDL Support",
			Doc: "Add columns for record fields the table lacks (ALTER TABLE ADD COLUMN); the fields must be optional or have a default. Debezium's schema.evolution=basic turns on auto.create and auto.evolve."},
		{Name: "quote.sql.identifiers", Type: connect.TypeString, Default: "always", Importance: "LOW", Group: "DDL Support",
			Recommended: []string{"always", "never"},
			Doc:         "always: quote table and column names (case kept); never: write them bare (PostgreSQL folds them to lower case)."},
		{Name: "max.retries", Type: connect.TypeInt, Default: "10", Importance: "MEDIUM", Group: "Retries",
			Doc: "Times a batch is retried after a connection error before the error goes back to the runtime as retriable.", Validate: nonNegative},
		{Name: "retry.backoff.ms", Type: connect.TypeInt, Default: "3000", Importance: "MEDIUM", Group: "Retries",
			Doc: "Wait between those retries, in milliseconds.", Validate: nonNegative},
	},
}

// Debezium JDBC sink keys and the Confluent keys they stand for. Sluice's
// own key wins when both are set.
var debeziumKeys = map[string]string{
	"connection.username":    "connection.user",
	"primary.key.mode":       "pk.mode",
	"primary.key.fields":     "pk.fields",
	"quote.identifiers":      "quote.sql.identifiers",
	"database.time_zone":     "db.timezone",
	"field.include.list":     "fields.whitelist",
	"fields.include":         "fields.whitelist",
	"collection.name.format": "table.name.format",
}

func positive(v string) error {
	if n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64); n <= 0 {
		return errors.New("must be 1 or more")
	}
	return nil
}

func nonNegative(v string) error {
	if n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64); n < 0 {
		return errors.New("must be 0 or more")
	}
	return nil
}

// normalize returns cfg with Debezium's key names mapped to Confluent's.
func normalize(cfg connect.Config) connect.Config {
	out := connect.Config{}
	for k, v := range cfg {
		out[k] = v
	}
	for dbz, ours := range debeziumKeys {
		if v, ok := cfg[dbz]; ok && out[ours] == "" {
			out[ours] = v
		}
	}
	if strings.EqualFold(cfg["schema.evolution"], "basic") {
		for _, k := range []string{"auto.create", "auto.evolve"} {
			if out[k] == "" {
				out[k] = "true"
			}
		}
	}
	if out["quote.sql.identifiers"] != "" {
		out["quote.sql.identifiers"] = strings.ToLower(out["quote.sql.identifiers"])
	}
	return out
}

type pkMode string

const (
	pkNone        pkMode = "none"
	pkKafka       pkMode = "kafka"
	pkRecordKey   pkMode = "record_key"
	pkRecordValue pkMode = "record_value"
)

type insertMode string

const (
	modeInsert insertMode = "insert"
	modeUpsert insertMode = "upsert"
	modeUpdate insertMode = "update"
)

// config is a validated sink config.
type config struct {
	target      target
	insertMode  insertMode
	pkMode      pkMode
	pkFields    []string
	fields      map[string]bool // nil: all value fields
	tableFormat string
	loc         *time.Location
	batchSize   int
	deletes     bool
	truncates   bool
	autoCreate  bool
	autoEvolve  bool
	quote       bool
	maxRetries  int
	backoff     time.Duration
}

// parseConfig validates raw (with Debezium's keys accepted) and checks the
// combinations Confluent's sink refuses.
func parseConfig(raw connect.Config) (*config, error) {
	cfg := normalize(raw)
	if errs := Spec.Validate(cfg); len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Error()
		}
		return nil, fmt.Errorf("jdbc-sink config: %s", strings.Join(msgs, "; "))
	}
	s := &Spec
	t, err := parseURL(cfg.String(s, "connection.url"))
	if err != nil {
		return nil, err
	}
	if v := cfg.String(s, "connection.user"); v != "" {
		t.user = v
	}
	if v := cfg.String(s, "connection.password"); v != "" {
		t.password = v
	}
	c := &config{
		target:      t,
		insertMode:  insertMode(strings.ToLower(cfg.String(s, "insert.mode"))),
		pkMode:      pkMode(strings.ToLower(cfg.String(s, "pk.mode"))),
		pkFields:    cfg.List(s, "pk.fields"),
		tableFormat: cfg.String(s, "table.name.format"),
		batchSize:   int(cfg.Int(s, "batch.size")),
		deletes:     cfg.Bool(s, "delete.enabled"),
		truncates:   cfg.Bool(s, "truncate.enabled"),
		autoCreate:  cfg.Bool(s, "auto.create"),
		autoEvolve:  cfg.Bool(s, "auto.evolve"),
		quote:       cfg.String(s, "quote.sql.identifiers") != "never",
		maxRetries:  int(cfg.Int(s, "max.retries")),
		backoff:     time.Duration(cfg.Int(s, "retry.backoff.ms")) * time.Millisecond,
	}
	c.loc, _ = time.LoadLocation(cfg.String(s, "db.timezone"))
	c.target.zone = c.loc
	if wl := cfg.List(s, "fields.whitelist"); len(wl) > 0 {
		c.fields = map[string]bool{}
		for _, f := range wl {
			// Debezium writes <topic>:<field>; the field is what counts here.
			if i := strings.LastIndexByte(f, ':'); i >= 0 {
				f = f[i+1:]
			}
			c.fields[f] = true
		}
	}
	switch {
	case c.insertMode != modeInsert && c.pkMode == pkNone:
		return nil, fmt.Errorf("jdbc-sink config: insert.mode=%s needs a primary key: set pk.mode to record_key, record_value or kafka", c.insertMode)
	case c.deletes && c.pkMode != pkRecordKey && c.pkMode != pkRecordValue:
		return nil, fmt.Errorf("jdbc-sink config: delete.enabled=true needs pk.mode=record_key (tombstones and Debezium deletes) or record_value (Debezium deletes only), not %s", c.pkMode)
	case c.pkMode == pkKafka && len(c.pkFields) != 0 && len(c.pkFields) != 3:
		return nil, fmt.Errorf("jdbc-sink config: pk.mode=kafka takes three pk.fields (topic, partition and offset columns), got %d", len(c.pkFields))
	}
	return c, nil
}
