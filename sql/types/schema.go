package types

import (
	"fmt"
	"strings"
)

// Column is a named column of a row schema.
type Column struct {
	Name string
	Type Type
	// Key marks a key column (stored in the record key); others are value
	// columns.
	Key bool
}

// Schema is a row schema: columns in declared order, key columns and value
// columns interleaved as declared.
type Schema struct {
	Columns []Column
}

// Key returns the key columns in order.
func (s Schema) Key() []Column { return s.filter(true) }

// Value returns the value columns in order.
func (s Schema) Value() []Column { return s.filter(false) }

func (s Schema) filter(key bool) []Column {
	var out []Column
	for _, c := range s.Columns {
		if c.Key == key {
			out = append(out, c)
		}
	}
	return out
}

// KeyType is the STRUCT of the key columns: the type a key format serializes.
func (s Schema) KeyType() Type { return structOf(s.Key()) }

// ValueType is the STRUCT of the value columns.
func (s Schema) ValueType() Type { return structOf(s.Value()) }

func structOf(cols []Column) Type {
	t := Type{Kind: Struct, Fields: make([]Field, 0, len(cols))}
	for _, c := range cols {
		t.Fields = append(t.Fields, F(c.Name, c.Type))
	}
	return t
}

// Column returns the column named name (exact match) and its index, or -1.
func (s Schema) Column(name string) (Column, int) {
	for i, c := range s.Columns {
		if c.Name == name {
			return c, i
		}
	}
	return Column{}, -1
}

// Validate checks column names are unique and non-empty and types valid.
func (s Schema) Validate() error {
	for i, c := range s.Columns {
		if c.Name == "" {
			return fmt.Errorf("column %d has no name", i)
		}
		if _, j := s.Column(c.Name); j != i {
			return fmt.Errorf("duplicate column %s", QuoteIdent(c.Name))
		}
		if err := c.Type.Validate(); err != nil {
			return fmt.Errorf("column %s: %w", QuoteIdent(c.Name), err)
		}
	}
	return nil
}

// String prints the schema as a ksqlDB column list: `ID INT KEY, NAME STRING`.
func (s Schema) String() string {
	parts := make([]string, len(s.Columns))
	for i, c := range s.Columns {
		parts[i] = QuoteIdent(c.Name) + " " + c.Type.String()
		if c.Key {
			parts[i] += " KEY"
		}
	}
	return strings.Join(parts, ", ")
}
