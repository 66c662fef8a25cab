package mysql

import (
	"testing"
	"time"

	"github.com/sluicedata/sluice/connect"
)

// BenchmarkRowChange measures one binlog row turned into a change record
// (conversion, structs, source block, offset), without the network.
func BenchmarkRowChange(b *testing.B) {
	c, err := parseConf(connect.Config{"database.hostname": "h", "database.user": "u", "topic.prefix": "bench"})
	if err != nil {
		b.Fatal(err)
	}
	def := &tableDef{DB: "db", Name: "orders", PK: []string{"id"}, Columns: []column{
		{Name: "id", DataType: "bigint", ColumnType: "bigint(20)"},
		{Name: "customer", DataType: "int", ColumnType: "int(11)", Nullable: true},
		{Name: "amount", DataType: "decimal", ColumnType: "decimal(12,2)", Precision: 12, Scale: 2, Nullable: true},
		{Name: "note", DataType: "varchar", ColumnType: "varchar(64)", Precision: 64, Nullable: true},
		{Name: "created", DataType: "datetime", ColumnType: "datetime(3)", Scale: 3, Nullable: true},
	}}
	tb, err := c.buildTable(def)
	if err != nil {
		b.Fatal(err)
	}
	task := &Task{c: c, part: map[string]any{"server": "bench"}, tables: map[string]*table{"db.orders": tb}}
	row := []any{int64(42), int32(7), "1234.50", "note 42", time.Date(2024, 1, 2, 3, 4, 5, 6e6, time.UTC)}
	tx := &txState{start: position{file: "mariadb-bin.000001", pos: 1234, gtids: "0-1-100"}, gtid: "0-1-101"}
	// As streamer.rows does: the source block and offset parts are built
	// once per binlog event (here: per 100 rows).
	b.ReportAllocs()
	var si *sourceInfo
	var base *offsetBase
	for i := 0; b.Loop(); i++ {
		if i%100 == 0 {
			si = &sourceInfo{ts: time.Unix(1700000000, 0), db: "db", table: "orders", serverID: 1, gtid: tx.gtid, file: "mariadb-bin.000001", pos: 1234, thread: -1, now: newBoxedNow(time.Now())}
			si.tmpl = c.sourceStruct(si)
			base = task.offsetBase(tx.start)
		}
		si.row = i % 100
		if _, err := task.rowChange(tb, nil, row, "c", si, base.at(0, i%100+1), tx); err != nil {
			b.Fatal(err)
		}
	}
}
