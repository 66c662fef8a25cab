package parser

import (
	"testing"

	"github.com/sluicedata/sluice/sql/ast"
)

// keyLookupOf returns the key lookup ParseScript finds in text, if text is
// one query of exactly that shape.
func keyLookupOf(text string) (KeyLookup, bool) {
	parsed, err := ParseScript(text, nil)
	if err != nil || len(parsed) != 1 {
		return KeyLookup{}, false
	}
	q, ok := parsed[0].Statement.(*ast.Query)
	if !ok || len(q.Select) != 1 || q.Window != nil || q.GroupBy != nil || q.PartitionBy != nil ||
		q.Having != nil || q.Emit != ast.EmitNone || q.Limit != nil {
		return KeyLookup{}, false
	}
	if all, ok := q.Select[0].(*ast.SelectAll); !ok || all.Source != "" {
		return KeyLookup{}, false
	}
	from, ok := q.From.(*ast.Source)
	if !ok || from.Alias != "" {
		return KeyLookup{}, false
	}
	eq, ok := q.Where.(*ast.Binary)
	if !ok || eq.Op != ast.Eq {
		return KeyLookup{}, false
	}
	col, ok := eq.Left.(*ast.ColumnRef)
	if !ok || col.Source != "" {
		return KeyLookup{}, false
	}
	lit, ok := eq.Right.(*ast.StringLit)
	if !ok {
		return KeyLookup{}, false
	}
	return KeyLookup{Table: from.Name, Column: col.Name, Key: lit.Value}, true
}

func TestMatchKeyLookup(t *testing.T) {
	for _, tc := range []struct {
		sql  string
		want bool // MatchKeyLookup recognizes it
	}{
		{`SELECT * FROM USERS_BY_ID WHERE ID = 'user-000001';`, true},
		{`SELECT * FROM USERS_BY_ID WHERE ID='user-000001';`, true},
		{`select * from users where id = 'a'`, true},
		{"  SELECT\n*\tFROM T WHERE K = 'x' ;  \n", true},
		{`SELECT*FROM T WHERE K='x'`, true},
		{"SELECT * FROM `Mixed Case` WHERE `id` = 'x';", true},
		{`SELECT * FROM "quoted" WHERE "Col" = 'x';`, true},
		{"SELECT * FROM`T`WHERE`K`='x';", true},
		{`SELECT * FROM T WHERE K = 'it''s';`, true},
		{`SELECT * FROM T WHERE K = '';`, true},
		{`SELECT * FROM T WHERE K = '; SELECT 1';`, true},
		{`SELECT * FROM T WHERE K = 'ünïcödé';`, true},
		{`SELECT * FROM T_1@x WHERE _K = 'x';`, true},
		{"SELECT * FROM `a``b` WHERE K = 'x';", true},

		{`SELECT * FROM T WHERE K = 'x' LIMIT 1;`, false},
		{`SELECT * FROM T WHERE K = 'x' EMIT CHANGES;`, false},
		{`SELECT * FROM T WHERE K IN ('x');`, false},
		{`SELECT * FROM T WHERE K = 'x' AND V = 1;`, false},
		{`SELECT * FROM T WHERE K = 1;`, false},
		{`SELECT * FROM T WHERE 'x' = K;`, false},
		{`SELECT * FROM T WHERE T.K = 'x';`, false},
		{`SELECT * FROM T A WHERE K = 'x';`, false},
		{`SELECT K FROM T WHERE K = 'x';`, false},
		{`SELECT T.* FROM T WHERE K = 'x';`, false},
		{`SELECT * FROM T WHERE K = 'x'; SELECT * FROM T WHERE K = 'y';`, false},
		{`SELECT * FROM T WHERE K = 'x';;`, false},
		{`SELECT * FROM T WHERE K = '${v}';`, false},
		{`SELECT * FROM ${t} WHERE K = 'x';`, false},
		{`SELECT * FROM T WHERE K = 'x' -- note`, false},
		{`SELECT * FROM T /* c */ WHERE K = 'x'`, false},
		{`SELECT * FROM T WHERE K = 'x`, false},
		{`SELECT * FROM SELECT WHERE K = 'x';`, false},
		{`SELECT * FROM T WHERE LIMIT = 'x';`, false},
		{"SELECT * FROM `` WHERE K = 'x';", false},
		{`SELECT * FROMT WHERE K = 'x';`, false},
		{`SELECT * FROM T WHEREK = 'x';`, false},
		{`SELECT * FROM T WHERE K == 'x';`, false},
		{`SELECT * FROM T WHERE K = 'x' 'y';`, false},
		{`SELECT * FROM 1T WHERE K = 'x';`, false},
		{`SELECTX * FROM T WHERE K = 'x';`, false},
		{`EXPLAIN SELECT * FROM T WHERE K = 'x';`, false},
		{``, false},
	} {
		got, ok := MatchKeyLookup(tc.sql)
		if ok != tc.want {
			t.Errorf("MatchKeyLookup(%q) = %v, want %v", tc.sql, ok, tc.want)
			continue
		}
		if !ok {
			continue
		}
		want, parsedOK := keyLookupOf(tc.sql)
		if !parsedOK || got != want {
			t.Errorf("MatchKeyLookup(%q) = %+v, but the parser reads %+v (key lookup: %v)", tc.sql, got, want, parsedOK)
		}
	}
}

// FuzzMatchKeyLookup holds MatchKeyLookup to the parser: whatever it
// accepts parses to the same key lookup.
func FuzzMatchKeyLookup(f *testing.F) {
	f.Add(`SELECT * FROM USERS_BY_ID WHERE ID = 'user-000001';`)
	f.Add("select*from`t`where\"k\"='a''b'")
	f.Fuzz(func(t *testing.T, sql string) {
		got, ok := MatchKeyLookup(sql)
		if !ok {
			return
		}
		want, parsedOK := keyLookupOf(sql)
		if !parsedOK || got != want {
			t.Fatalf("MatchKeyLookup(%q) = %+v, but the parser reads %+v (key lookup: %v)", sql, got, want, parsedOK)
		}
	})
}
