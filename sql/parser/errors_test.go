package parser

import "testing"

// TestErrors checks that bad input is rejected with the line and column,
// what was expected and what was found.
func TestErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SELECT a, b FROM", "line 1:17: expected a stream or table name but found end of input"},
		{"SELECT a FROM s WHERE a IN (1, 2 FROM", "line 1:34: expected ')' but found 'FROM'"},
		{"SELECT COUNT(a FROM s", "line 1:16: expected ',' or ')' but found 'FROM'"},
		{"SELECT * FROM s WHERE", "line 1:22: expected an expression but found end of input"},
		{"SELECT * FROM s WHERE a = = b", "line 1:27: expected an expression but found '='"},
		{"SELECT * FROM s WHERE a = b = c", "line 1:29: comparisons and predicates do not chain: put one in parentheses or join them with AND"},
		{"SELECT * FROM s EMIT", "line 1:21: expected CHANGES or FINAL but found end of input"},
		{"SELECT * FROM s EMIT NOW", "line 1:22: expected CHANGES or FINAL but found 'NOW'"},
		{"SELECT * FROM s LIMIT -1", "line 1:23: expected a non-negative limit but found -1"},
		{"SELECT * FROM s LIMIT x", "line 1:23: expected a non-negative limit but found 'x'"},
		{"SELECT 'abc FROM s", "line 1:8: unterminated string"},
		{"SELECT `abc FROM s", "line 1:8: unterminated quoted identifier"},
		{"SELECT \"\" FROM s", "line 1:8: empty quoted identifier"},
		{"SELECT /* x FROM s", "line 1:8: unterminated /* comment"},
		{"SELECT a # b FROM s", "line 1:10: unexpected character '#'"},
		{"SELECT 99999999999999999999 FROM s", "line 1:8: integer 99999999999999999999 is out of range for BIGINT"},
		{"SELECT 1E999 FROM s", "line 1:8: number 1E999 is out of range for DOUBLE"},
		{"SELECT CAST(a AS DECIMAL(0, 1)) FROM s", "line 1:26: DECIMAL precision must be between 1 and 1000: 0"},
		{"SELECT CAST(a AS DECIMAL(2, 3)) FROM s", "line 1:26: DECIMAL scale must be between 0 and the precision (2): 3"},
		{"SELECT CAST(a AS MAP<INT, INT>) FROM s", "line 1:22: MAP keys must be STRING, not INT"},
		{"SELECT CAST(a AS STRUCT<a INT, a STRING>) FROM s", "line 1:32: duplicate STRUCT field A"},
		{"SELECT CAST(a AS INT FROM s", "line 1:22: expected ')' but found 'FROM'"},
		{"SELECT CASE END FROM s", "line 1:13: expected an expression but found 'END'"},
		{"SELECT CASE WHEN a THEN b FROM s", "line 1:27: expected END but found 'FROM'"},
		{"SELECT a LIKE 'x' ESCAPE 'ab' FROM s", "line 1:26: ESCAPE must be one character, not 'ab'"},
		{"SELECT a IN () FROM s", "line 1:14: expected an expression but found ')'"},
		{"SELECT a IS FOO FROM s", "line 1:13: expected NULL or DISTINCT FROM but found 'FOO'"},
		{"SELECT TRANSFORM(arr, (x, x) => x) FROM s", "line 1:27: duplicate lambda parameter X"},
		{"SELECT NOT FROM s", "line 1:12: expected an expression but found 'FROM'"},
		{"SELECT a = NOT b FROM s", "line 1:12: expected an expression (put NOT ... in parentheses) but found 'NOT'"},
		{"SELECT - FROM s", "line 1:10: expected an expression but found 'FROM'"},
		{"SELECT ${x} FROM s", "line 1:8: variable ${x} is not defined"},
		{"SELECT DATE '2020-01-01' FROM s", "line 1:8: unknown typed literal DATE '2020-01-01' (only DECIMAL '...' is supported)"},
		{"SELECT DECIMAL 'abc' FROM s", "line 1:16: invalid DECIMAL literal 'abc'"},
		{"SELECT s.* AS x FROM s", "line 1:12: expected FROM but found 'AS'"},
		{"SELECT MAP('a' := 1 'b' := 2) FROM s", "line 1:21: expected ',' or ')' but found 'b'"},
		{"SELECT STRUCT(a = 1) FROM s", "line 1:17: expected ':=' but found '='"},
		{"SELECT ARRAY[1, 2 FROM s", "line 1:19: expected ']' but found 'FROM'"},
		{"SELECT a->1 FROM s", "line 1:11: expected a field name but found '1'"},
		{"SELECT * FROM s WINDOW TUMBLING (SIZE 1 WEEK)", "line 1:41: expected a time unit (MILLISECONDS, SECONDS, MINUTES, HOURS or DAYS) but found 'WEEK'"},
		{"SELECT * FROM s WINDOW TUMBLING (SIZE HOUR)", "line 1:39: expected a duration (a number and a time unit) but found 'HOUR'"},
		{"SELECT * FROM s WINDOW TUMBLING (SIZE 1 HOUR, RETENTION 1 DAY, RETENTION 2 DAYS)", "line 1:64: duplicate RETENTION"},
		{"SELECT * FROM s WINDOW TUMBLING (SIZE 1 HOUR, GRACE 1 DAY)", "line 1:53: expected PERIOD but found '1'"},
		{"SELECT * FROM s WINDOW SLIDING (SIZE 1 HOUR)", "line 1:24: expected TUMBLING, HOPPING or SESSION but found 'SLIDING'"},
		{"SELECT * FROM s WINDOW HOPPING (SIZE 1 HOUR)", "line 1:44: expected ',' but found ')'"},
		{"SELECT * FROM a JOIN b WITHIN 1 HOUR", "line 1:37: expected ON but found end of input"},
		{"SELECT * FROM a JOIN b WITHIN (1 HOUR) ON a.x = b.x", "line 1:38: expected ',' but found ')'"},
		{"SELECT * FROM a LEFT b ON a.x = b.x", "line 1:22: expected JOIN but found 'b'"},
		{"SELECT * FROM s GROUP BY ()", "line 1:26: GROUP BY needs at least one expression"},
		{"SELECT * FROM s PARTITION x", "line 1:27: expected BY but found 'x'"},
		{"CREATE STREAM s (id INT KEY", "line 1:28: expected ')' but found end of input"},
		{"CREATE STREAM s (id FOO<INT>)", "line 1:24: expected ')' but found '<'"},
		{"CREATE STREAM s (id INT KEY) WITH (kafka_topic='t', kafka_topic='u')", "line 1:53: duplicate property KAFKA_TOPIC"},
		{"CREATE STREAM s (id INT) WITH (kafka_topic=t)", "line 1:44: expected a literal but found 't'"},
		{"CREATE STREAM s (id INT) WITH ()", "line 1:32: expected a property name but found ')'"},
		{"CREATE STREAM s (id INT HEADER(1))", "line 1:32: expected a header key in quotes but found '1'"},
		{"CREATE SOURCE STREAM s AS SELECT * FROM t", "line 1:24: CREATE SOURCE STREAM cannot have AS SELECT"},
		{"CREATE STREAM s (id INT) AS SELECT * FROM t", "line 1:26: CREATE STREAM ... AS SELECT cannot declare columns"},
		{"CREATE OR REPLACE TYPE t AS INT", "line 1:19: expected STREAM or TABLE after OR REPLACE but found 'TYPE'"},
		{"CREATE TYPE t INT", "line 1:15: expected AS but found 'INT'"},
		{"CREATE VIEW v AS SELECT * FROM s", "line 1:8: expected STREAM or TABLE but found 'VIEW'"},
		{"CREATE SINK CONNECTOR c", "line 1:24: expected WITH but found end of input"},
		{"CREATE STREAM IF EXISTS s (a INT)", "line 1:18: expected NOT but found 'EXISTS'"},
		{"DROP STREAM", "line 1:12: expected a stream name but found end of input"},
		{"DROP TABLE t DELETE", "line 1:20: expected TOPIC but found end of input"},
		{"DROP INDEX i", "line 1:6: expected STREAM, TABLE, TYPE or CONNECTOR but found 'INDEX'"},
		{"SHOW INDEXES", "line 1:6: expected STREAMS, TABLES, TOPICS, QUERIES, PROPERTIES, FUNCTIONS, TYPES, VARIABLES or CONNECTORS but found 'INDEXES'"},
		{"SHOW CONNECTOR", "line 1:15: expected PLUGINS but found end of input"},
		{"DESCRIBE", "line 1:9: expected a stream or table name but found end of input"},
		{"DESCRIBE CONNECTOR", "line 1:19: expected a connector name but found end of input"},
		{"TERMINATE", "line 1:10: expected a query id or ALL but found end of input"},
		{"SET auto.offset.reset = 'earliest'", "line 1:5: expected a property name in quotes but found 'auto'"},
		{"SET 'a' 'b'", "line 1:9: expected '=' but found 'b'"},
		{"DEFINE 1x = 'a'", "line 1:8: expected a variable name but found '1x'"},
		{"DEFINE x = 1", "line 1:12: expected a variable value in quotes but found '1'"},
		{"PRINT t INTERVAL 0", "line 1:18: expected a positive interval but found 0"},
		{"PRINT t FROM START", "line 1:14: expected BEGINNING but found 'START'"},
		{"ASSERT SCHEMA TIMEOUT 1 SECOND", "line 1:15: expected SUBJECT or ID but found 'TIMEOUT'"},
		{"ASSERT INDEX t", "line 1:8: expected TOPIC, SCHEMA, VALUES, NULL VALUES, STREAM or TABLE but found 'INDEX'"},
		{"ASSERT NOT EXISTS TABLE t", "line 1:19: expected TOPIC or SCHEMA but found 'TABLE'"},
		{"ASSERT VALUES foo (id) VALUES (123)", "line 1:1: ASSERT VALUES is a test statement, allowed only in run-ksql-test files"},
		{"ASSERT STREAM s", "line 1:1: ASSERT STREAM is a test statement, allowed only in run-ksql-test files"},
		{"ASSERT TOPIC t TIMEOUT 5", "line 1:25: expected a time unit (MILLISECONDS, SECONDS, MINUTES, HOURS or DAYS) but found end of input"},
		{"RUN SCRIPT file.sql", "line 1:12: expected a script path in quotes but found 'file'"},
		{"SELECT * FROM s; SELECT", "line 1:24: expected an expression but found end of input"},
		{"SELECT * FROM s SELECT * FROM t", "line 1:17: expected ';' or end of input but found 'SELECT'"},
		{"INSERT INTO s", "line 1:14: expected SELECT, VALUES or a column list but found end of input"},
		{"INSERT INTO s (a, b) SELECT * FROM t", "line 1:22: expected VALUES but found 'SELECT'"},
		{"INSERT INTO s VALUES 1, 2", "line 1:22: expected '(' but found '1'"},
		{"ALTER STREAM s DROP COLUMN c", "line 1:16: expected ADD but found 'DROP'"},
		{"ALTER s ADD c INT", "line 1:7: expected STREAM, TABLE or SYSTEM but found 's'"},
		{"EXPLAIN", "line 1:8: expected a statement but found end of input"},
		{"SELECT a FROM s ORDER BY a", "line 1:17: ORDER BY is not supported: streams and tables are unordered in ksqlDB"},
		{"SELECT a FROM s UNION SELECT b FROM t", "line 1:17: UNION is not supported: INSERT INTO one stream from several queries instead"},
		{"SELECT * FROM s WHERE a IN (SELECT b FROM t)", "line 1:29: subqueries are not supported: create a stream or table from the inner query first"},
		{"SELECT DISTINCT a FROM s", "line 1:8: DISTINCT is not supported: use GROUP BY, or COUNT_DISTINCT and COLLECT_SET in aggregates"},
		{"SELECT COUNT(DISTINCT a) FROM s", "line 1:14: DISTINCT is not supported: use GROUP BY, or COUNT_DISTINCT and COLLECT_SET in aggregates"},
		{"", "line 1:1: expected a statement but found end of input"},
		{"42", "line 1:1: expected a statement but found '42'"},
		{"SELECT *\nFROM s\nWHERE a >\n", "line 4:1: expected an expression but found end of input"},
		{"CREATE STREAM s (\n  id INT,\n  name STRNG STRING\n)", "line 3:14: expected ')' but found 'STRING'"},
		{"SHOW STREAMS; SHOW TABLES", "line 1:15: expected one statement but found more"},
	}
	for _, tt := range tests {
		_, err := ParseStatement(tt.in)
		if err == nil {
			t.Errorf("%q: parsed, want error %q", tt.in, tt.want)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("%q:\n got %s\nwant %s", tt.in, err, tt.want)
		}
	}
}

func TestTestStatementErrors(t *testing.T) {
	_, err := ParseTestStatements("ASSERT NULL VALUES s (k) VALUES (1)")
	if err == nil || err.Error() != "line 1:26: expected KEY but found 'VALUES'" {
		t.Errorf("got %v", err)
	}
}
