package jdbc

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// dialect is the SQL flavour of the target database. Two are supported, so
// the differences are plain switches rather than an interface.
type dialect int

const (
	postgres dialect = iota
	mariadb          // MariaDB and MySQL
)

func (d dialect) String() string {
	if d == postgres {
		return "PostgreSQL"
	}
	return "MariaDB/MySQL"
}

// open returns a pool for the target. Nothing is dialled yet.
func open(t target, log *slog.Logger) (*sql.DB, dialect, error) {
	if t.dialect == "postgresql" {
		u := url.URL{Scheme: "postgres", Host: t.host, Path: "/" + t.database}
		if t.user != "" {
			u.User = url.UserPassword(t.user, t.password)
		}
		q := url.Values{}
		// libpq's names for what JDBC URLs commonly carry.
		for _, k := range []string{"sslmode", "sslrootcert", "sslcert", "sslkey", "application_name", "connect_timeout"} {
			if v := t.params.Get(k); v != "" {
				q.Set(k, v)
			}
		}
		if v := t.params.Get("currentSchema"); v != "" {
			q.Set("search_path", v)
		}
		if v := t.params.Get("ApplicationName"); v != "" {
			q.Set("application_name", v)
		}
		u.RawQuery = q.Encode()
		pc, err := pgx.ParseConfig(u.String())
		if err != nil {
			return nil, 0, fmt.Errorf("connection.url: %w", err)
		}
		if t.zone != nil && t.zone != time.Local {
			pc.RuntimeParams["timezone"] = t.zone.String()
		}
		return stdlib.OpenDB(*pc), postgres, nil
	}
	mc := mysql.NewConfig()
	mc.Net = "tcp"
	mc.Logger = driverLog{log}
	mc.Addr = t.host
	mc.DBName = t.database
	mc.User = t.user
	mc.Passwd = t.password
	// One round trip per statement; the driver escapes values for the
	// connection's charset, which is fixed to utf8mb4 here.
	mc.InterpolateParams = true
	if err := mc.Apply(mysql.Charset("utf8mb4", "")); err != nil {
		return nil, 0, err
	}
	mc.Params = map[string]string{
		// Strict mode: a value that does not fit fails instead of being
		// silently truncated, so it reaches the dead-letter topic.
		"sql_mode": "CONCAT(@@sql_mode, ',STRICT_ALL_TABLES')",
	}
	// Named zones need the server's time-zone tables, often not loaded; UTC
	// (the default) is an offset and always works.
	if t.zone == time.UTC {
		mc.Params["time_zone"] = "'+00:00'"
	}
	if v := t.params.Get("connectTimeout"); v != "" {
		if ms, err := strconv.Atoi(v); err == nil {
			mc.Timeout = time.Duration(ms) * time.Millisecond
		}
	}
	conn, err := mysql.NewConnector(mc)
	if err != nil {
		return nil, 0, fmt.Errorf("connection.url: %w", err)
	}
	return sql.OpenDB(conn), mariadb, nil
}

// tableID names a table: schema (PostgreSQL) or database (MySQL) may be
// empty for the connection's default.
type tableID struct {
	schema, name string
}

func (t tableID) String() string {
	if t.schema == "" {
		return t.name
	}
	return t.schema + "." + t.name
}

// parseTable splits a formatted table name on dots as Confluent's sink does:
// table, schema.table (database.table on MySQL) or database.schema.table on
// PostgreSQL, where database must be the connected one.
func parseTable(d dialect, name, database string) (tableID, error) {
	parts := strings.Split(name, ".")
	for _, p := range parts {
		if p == "" {
			return tableID{}, fmt.Errorf("table name %q has an empty part", name)
		}
	}
	switch len(parts) {
	case 1:
		return tableID{name: parts[0]}, nil
	case 2:
		return tableID{schema: parts[0], name: parts[1]}, nil
	case 3:
		if d == postgres {
			if parts[0] != database {
				return tableID{}, fmt.Errorf("table name %q names database %q but the sink is connected to %q: set table.name.format (for Debezium topics ${source.schema}.${source.table}) or route the topic with RegexRouter", name, parts[0], database)
			}
			return tableID{schema: parts[1], name: parts[2]}, nil
		}
	}
	return tableID{}, fmt.Errorf("table name %q has %d dot-separated parts, %s takes at most %d: set table.name.format (for Debezium topics ${source.schema}.${source.table} or ${source.table}) or route the topic with RegexRouter", name, len(parts), d, map[dialect]int{postgres: 3, mariadb: 2}[d])
}

// sqlWriter builds statements for one dialect and quoting choice.
type sqlWriter struct {
	d     dialect
	quote bool
}

func (w sqlWriter) ident(s string) string {
	if !w.quote {
		return s
	}
	if w.d == postgres {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return "`" + strings.ReplaceAll(s, "`", "``") + "`"
}

func (w sqlWriter) table(t tableID) string {
	if t.schema == "" {
		return w.ident(t.name)
	}
	return w.ident(t.schema) + "." + w.ident(t.name)
}

func (w sqlWriter) idents(cols []string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = w.ident(c)
	}
	return strings.Join(q, ", ")
}

// placeholders appends rows tuples of n parameters, numbered from *next on
// PostgreSQL.
func (w sqlWriter) tuple(b *strings.Builder, n int, next *int) {
	b.WriteByte('(')
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		w.param(b, next)
	}
	b.WriteByte(')')
}

func (w sqlWriter) param(b *strings.Builder, next *int) {
	if w.d == postgres {
		*next++
		b.WriteString("$" + strconv.Itoa(*next))
		return
	}
	b.WriteByte('?')
}

// insert is a multi-row INSERT of rows rows; with upsert and key columns,
// rows whose key exists are updated instead.
func (w sqlWriter) insert(t tableID, cols []string, nkeys, rows int, upsert bool) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + w.table(t) + " (" + w.idents(cols) + ") VALUES ")
	next := 0
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		w.tuple(&b, len(cols), &next)
	}
	if upsert {
		w.onConflict(&b, cols, nkeys)
	}
	return b.String()
}

// insertUnnest is PostgreSQL's INSERT of any number of rows with one
// parameter per column, each an array of the column's values: one statement
// text per table shape (prepared once) and a plan that does not grow with
// the rows. types are the columns' cast targets.
func (w sqlWriter) insertUnnest(t tableID, cols, types []string, nkeys int, upsert bool) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + w.table(t) + " (" + w.idents(cols) + ") SELECT * FROM ")
	w.unnest(&b, types)
	if upsert {
		w.onConflict(&b, cols, nkeys)
	}
	return b.String()
}

// updateUnnest is PostgreSQL's UPDATE of many rows by key, with one array
// parameter per column as in insertUnnest. Keys must be unique in the batch.
func (w sqlWriter) updateUnnest(t tableID, cols, types []string, nkeys int) string {
	var b strings.Builder
	b.WriteString("UPDATE " + w.table(t) + " AS dst SET ")
	for i, c := range cols[nkeys:] {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(w.ident(c) + " = src." + w.ident(c))
	}
	b.WriteString(" FROM ")
	w.unnest(&b, types)
	b.WriteString(" AS src (" + w.idents(cols) + ") WHERE ")
	for i, c := range cols[:nkeys] {
		if i > 0 {
			b.WriteString(" AND ")
		}
		b.WriteString("dst." + w.ident(c) + " = src." + w.ident(c))
	}
	return b.String()
}

// deleteUnnest is PostgreSQL's DELETE of many rows by key, with one array
// parameter per key column.
func (w sqlWriter) deleteUnnest(t tableID, keys, types []string) string {
	var b strings.Builder
	b.WriteString("DELETE FROM " + w.table(t) + " WHERE (" + w.idents(keys) + ") IN (SELECT * FROM ")
	w.unnest(&b, types)
	b.WriteByte(')')
	return b.String()
}

func (w sqlWriter) unnest(b *strings.Builder, types []string) {
	b.WriteString("unnest(")
	for i, typ := range types {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$" + strconv.Itoa(i+1) + "::" + typ + "[]")
	}
	b.WriteByte(')')
}

func (w sqlWriter) onConflict(b *strings.Builder, cols []string, nkeys int) {
	keys, rest := cols[:nkeys], cols[nkeys:]
	if w.d == postgres {
		b.WriteString(" ON CONFLICT (" + w.idents(keys) + ") DO ")
		if len(rest) == 0 {
			b.WriteString("NOTHING")
			return
		}
		b.WriteString("UPDATE SET ")
		for i, c := range rest {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(w.ident(c) + " = EXCLUDED." + w.ident(c))
		}
		return
	}
	b.WriteString(" ON DUPLICATE KEY UPDATE ")
	if len(rest) == 0 { // only keys: nothing to change, but the clause needs one
		rest = keys[:1]
	}
	for i, c := range rest {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(w.ident(c) + " = VALUES(" + w.ident(c) + ")")
	}
}

// update is UPDATE t SET non-key columns WHERE key columns; the parameters
// are the non-key values, then the key values.
func (w sqlWriter) update(t tableID, cols []string, nkeys int) string {
	var b strings.Builder
	b.WriteString("UPDATE " + w.table(t) + " SET ")
	next := 0
	for i, c := range cols[nkeys:] {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(w.ident(c) + " = ")
		w.param(&b, &next)
	}
	b.WriteString(" WHERE ")
	w.keyMatch(&b, cols[:nkeys], &next)
	return b.String()
}

func (w sqlWriter) keyMatch(b *strings.Builder, keys []string, next *int) {
	for i, c := range keys {
		if i > 0 {
			b.WriteString(" AND ")
		}
		b.WriteString(w.ident(c) + " = ")
		w.param(b, next)
	}
}

// delete removes rows rows by key: WHERE (k1, k2) IN ((..), (..)).
func (w sqlWriter) delete(t tableID, keys []string, rows int) string {
	var b strings.Builder
	b.WriteString("DELETE FROM " + w.table(t) + " WHERE ")
	next := 0
	if rows == 1 {
		w.keyMatch(&b, keys, &next)
		return b.String()
	}
	b.WriteString("(" + w.idents(keys) + ") IN (")
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		w.tuple(&b, len(keys), &next)
	}
	b.WriteByte(')')
	return b.String()
}

// columnDef is one column of CREATE TABLE or ADD COLUMN.
func (w sqlWriter) columnDef(c column) (string, error) {
	typ, err := columnType(w.d, c.schema, c.key)
	if err != nil {
		return "", fmt.Errorf("column %q: %w", c.name, err)
	}
	def := w.ident(c.name) + " " + typ
	if lit, ok := defaultLiteral(c.schema); ok {
		if w.d == mariadb && strings.HasPrefix(lit, "'") {
			// MySQL 8 takes a default on a TEXT column only as an expression.
			lit = "(" + lit + ")"
		}
		def += " DEFAULT " + lit
	}
	if c.key || !c.schema.Optional {
		def += " NOT NULL"
	} else {
		def += " NULL"
	}
	return def, nil
}

func (w sqlWriter) createTable(t tableID, cols []column) (string, error) {
	var b strings.Builder
	b.WriteString("CREATE TABLE IF NOT EXISTS " + w.table(t) + " (\n")
	var keys []string
	for i, c := range cols {
		def, err := w.columnDef(c)
		if err != nil {
			return "", err
		}
		if i > 0 {
			b.WriteString(",\n")
		}
		b.WriteString("  " + def)
		if c.key {
			keys = append(keys, c.name)
		}
	}
	if len(keys) > 0 {
		b.WriteString(",\n  PRIMARY KEY (" + w.idents(keys) + ")")
	}
	b.WriteString("\n)")
	return b.String(), nil
}

func (w sqlWriter) addColumn(t tableID, c column) (string, error) {
	def, err := w.columnDef(c)
	if err != nil {
		return "", err
	}
	// MySQL has no ADD COLUMN IF NOT EXISTS (MariaDB has); a column added
	// concurrently by another task is recognised after the error instead.
	if w.d == mariadb {
		return "ALTER TABLE " + w.table(t) + " ADD COLUMN " + def, nil
	}
	return "ALTER TABLE " + w.table(t) + " ADD COLUMN IF NOT EXISTS " + def, nil
}

// existingColumns returns the columns of table t by lower-cased name, or nil
// when it does not exist. On PostgreSQL the value is the column's type as a
// cast target ("pg_catalog"."int4"), used to send a column's values as one
// array; it is empty for array columns and on MySQL.
func existingColumns(ctx context.Context, db *sql.DB, d dialect, quote bool, t tableID) (map[string]string, error) {
	var q string
	if d == postgres {
		q = `SELECT column_name, udt_schema, udt_name FROM information_schema.columns
		     WHERE table_schema = COALESCE(NULLIF($1, ''), current_schema()) AND table_name = $2`
	} else {
		q = `SELECT column_name, '', '' FROM information_schema.columns
		     WHERE table_schema = COALESCE(NULLIF(?, ''), DATABASE()) AND table_name = ?`
	}
	schema, name := t.schema, t.name
	if !quote && d == postgres { // bare identifiers fold to lower case
		schema, name = strings.ToLower(schema), strings.ToLower(name)
	}
	rows, err := db.QueryContext(ctx, q, schema, name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cols map[string]string
	for rows.Next() {
		var c, us, un string
		if err := rows.Scan(&c, &us, &un); err != nil {
			return nil, err
		}
		if cols == nil {
			cols = map[string]string{}
		}
		typ := ""
		if un != "" && !strings.HasPrefix(un, "_") {
			w := sqlWriter{d: postgres, quote: true}
			typ = w.ident(us) + "." + w.ident(un)
		}
		cols[strings.ToLower(c)] = typ
	}
	return cols, rows.Err()
}

// driverLog sends the MySQL driver's messages (a bad idle connection closed
// ...) to the task's logger at debug level: the sink reports the errors that
// matter itself.
type driverLog struct{ l *slog.Logger }

func (d driverLog) Print(v ...any) { d.l.Debug("mysql driver: " + fmt.Sprint(v...)) }
