package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/sluicedata/sluice/sql/ast"
	"github.com/sluicedata/sluice/sql/parser"
)

// Insert implements rest.Backend for /inserts-stream: the JSON row becomes
// an INSERT INTO ... VALUES statement, so it is checked and serialized
// exactly as one typed by a user. JSON objects become STRUCTs and arrays
// ARRAYs.
func (e *Engine) Insert(ctx context.Context, target string, row map[string]any) error {
	names := make([]string, 0, len(row))
	for k := range row {
		names = append(names, k)
	}
	sort.Strings(names)
	cols := make([]string, len(names))
	vals := make([]string, len(names))
	for i, n := range names {
		cols[i] = ast.QuoteIdent(strings.ToUpper(n))
		lit, err := sqlLiteral(row[n])
		if err != nil {
			return fmt.Errorf("column %s: %w", n, err)
		}
		vals[i] = lit
	}
	text := fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s);", ast.QuoteIdent(strings.ToUpper(target)),
		strings.Join(cols, ", "), strings.Join(vals, ", "))
	stmt, err := parser.ParseStatement(text)
	if err != nil {
		return err
	}
	_, err = e.executeOne(ctx, stmt, text, e.props(nil))
	return err
}

// sqlLiteral writes a JSON value as a SQL literal.
func sqlLiteral(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "NULL", nil
	case bool:
		if x {
			return "TRUE", nil
		}
		return "FALSE", nil
	case json.Number:
		return x.String(), nil
	case float64:
		return fmt.Sprint(x), nil
	case string:
		return "'" + strings.ReplaceAll(x, "'", "''") + "'", nil
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			s, err := sqlLiteral(e)
			if err != nil {
				return "", err
			}
			parts[i] = s
		}
		return "ARRAY[" + strings.Join(parts, ", ") + "]", nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			s, err := sqlLiteral(x[k])
			if err != nil {
				return "", err
			}
			parts[i] = ast.QuoteIdent(strings.ToUpper(k)) + " := " + s
		}
		return "STRUCT(" + strings.Join(parts, ", ") + ")", nil
	}
	return "", fmt.Errorf("unsupported JSON value %T", v)
}
