package postgres

import (
	"context"
	"fmt"
)

// Catalog look-ups. pgoutput's Relation message names the columns and their
// types; the catalog adds what it lacks: NOT NULL, the key (primary key, else
// the REPLICA IDENTITY index) and the definitions of non-built-in types.

func (t *Task) lookupType(ctx context.Context) typeLookup {
	return func(oid uint32) (*pgType, error) {
		if pt, ok := t.types[oid]; ok {
			return pt, nil
		}
		pt := &pgType{oid: oid}
		var kind, cat string
		err := t.db.QueryRow(ctx, `SELECT t.typname, t.typtype::text, t.typbasetype, t.typelem, t.typcategory::text, t.typtypmod,
			ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)
			FROM pg_type t WHERE t.oid = $1`, oid).Scan(&pt.name, &kind, &pt.base, &pt.elem, &cat, &pt.baseMod, &pt.labels)
		if err != nil {
			return nil, fmt.Errorf("look up type oid %d: %w", oid, err)
		}
		pt.kind, pt.category = kind[0], cat[0]
		t.types[oid] = pt
		return pt, nil
	}
}

// catalogColumns returns the columns pgoutput sends for a table (generated
// columns are not replicated) and their not-null and key flags.
func (t *Task) catalogColumns(ctx context.Context, relID uint32) ([]*column, map[string]colInfo, bool, error) {
	rows, err := t.db.Query(ctx, `SELECT a.attname, a.atttypid, a.atttypmod, a.attnotnull,
		COALESCE((SELECT true FROM pg_index i WHERE i.indrelid = a.attrelid AND a.attnum = ANY(i.indkey) AND i.indisprimary), false),
		COALESCE((SELECT true FROM pg_index i WHERE i.indrelid = a.attrelid AND a.attnum = ANY(i.indkey) AND i.indisreplident), false),
		(SELECT c.relreplident::text FROM pg_class c WHERE c.oid = a.attrelid)
		FROM pg_attribute a WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
		ORDER BY a.attnum`, relID)
	if err != nil {
		return nil, nil, false, fmt.Errorf("read columns of relation %d: %w", relID, err)
	}
	defer rows.Close()
	var cols []*column
	info := map[string]colInfo{}
	var pk, ident []string
	full := false
	for rows.Next() {
		c := &column{}
		var notNull, isPK, isIdent bool
		var replident string
		if err := rows.Scan(&c.name, &c.oid, &c.typmod, &notNull, &isPK, &isIdent, &replident); err != nil {
			return nil, nil, false, err
		}
		full = replident == "f"
		cols = append(cols, c)
		info[c.name] = colInfo{notNull: notNull}
		if isPK {
			pk = append(pk, c.name)
		}
		if isIdent {
			ident = append(ident, c.name)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, false, err
	}
	// The key is the primary key, else the replica identity index; tables
	// with neither have a null key, as in Debezium.
	key := pk
	if len(key) == 0 {
		key = ident
	}
	for _, k := range key {
		ci := info[k]
		ci.key = true
		info[k] = ci
	}
	return cols, info, full, nil
}

// loadTable builds a table from the catalog (snapshots, and streaming before
// the first Relation message of a table).
func (t *Task) loadTable(ctx context.Context, ref tableRef) (*table, error) {
	cols, info, full, err := t.catalogColumns(ctx, ref.oid)
	if err != nil {
		return nil, fmt.Errorf("postgres-cdc: table %s: %w", ref.id(), err)
	}
	tb, err := t.c.buildTable(ref.schema, ref.name, ref.oid, cols, info, t.lookupType(ctx))
	if err != nil {
		return nil, fmt.Errorf("postgres-cdc: %w", err)
	}
	tb.replicaFull = full
	return tb, nil
}
