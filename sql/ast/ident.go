package ast

import "strings"

// keywords are the words a name spelled like is printed quoted: ksqlDB's
// reserved words (so that printed SQL is valid ksqlDB too), plus the words
// that would not read back as a name somewhere a name can stand: the
// constructors (ARRAY[...]), the time units (a bare unit is a function
// argument of its own), the clause words that end a bare alias (PARTITION,
// EMIT) and the words some statements look for in a name's place (DESCRIBE
// STREAMS, DESCRIBE FUNCTION f, TERMINATE ALL, CREATE STREAM IF NOT EXISTS).
var keywords = map[string]bool{}

func init() {
	for w := range reserved {
		keywords[w] = true
	}
	for _, w := range strings.Fields(`
		ADVANCE ALL BEGINNING CATALOG CONNECTOR CONNECTORS CREATE DECIMAL DELETE DESCRIBE
		DROP EXPLAIN EXPORT EXTENDED HOPPING INSERT INTO LIST LOAD MATERIALIZED NAMESPACE
		PAUSE PRINT PROPERTIES QUERIES QUERY RENAME RESUME RETENTION RUN SAMPLE SCRIPT
		SIZE STREAM STREAMS TABLE TERMINATE TO TOPIC TOPICS TUMBLING UNSET VIEW
		YEARS MONTHS
		ARRAY MAP STRUCT
		MILLISECOND MILLISECONDS SECOND SECONDS MINUTE MINUTES HOUR HOURS DAY DAYS
		PARTITION EMIT TABLES FUNCTION IF`) {
		keywords[w] = true
	}
}

// IsKeyword reports whether the upper-case word w must be quoted to be read
// as a name.
func IsKeyword(w string) bool { return keywords[w] }

// QuoteIdent returns name as it must be written to read back as name: bare
// when it is an upper-case identifier that is not a keyword, back-quoted
// otherwise (a back quote inside is doubled).
func QuoteIdent(name string) string {
	if isPlain(name) && !keywords[name] {
		return name
	}
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

func isPlain(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'A' && c <= 'Z' || c == '_' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// QuoteString returns s as a SQL string literal.
func QuoteString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
