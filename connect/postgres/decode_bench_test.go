package postgres

import (
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
)

// BenchmarkDecode measures the client side alone: pgoutput Insert messages
// (the bench/cdc orders table: bigint, int, numeric(12,2), text,
// timestamptz) decoded into Connect records and queued, with no server in
// the loop. bench/cdc measures the whole path against PostgreSQL.
func BenchmarkDecode(b *testing.B) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	c, err := parseConf(map[string]string{"database.hostname": "x", "database.user": "u", "database.dbname": "d", "topic.prefix": "bench"}, log)
	if err != nil {
		b.Fatal(err)
	}
	cols := []*column{{name: "id", oid: oidInt8, typmod: -1}, {name: "customer", oid: oidInt4, typmod: -1},
		{name: "amount", oid: oidNumeric, typmod: (12<<16 | 2) + 4}, {name: "note", oid: oidText, typmod: -1}, {name: "created", oid: oidTimestampTZ, typmod: -1}}
	tb, err := c.buildTable("public", "orders", 1, cols, map[string]colInfo{"id": {notNull: true, key: true}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	task := &Task{c: c, log: log, tables: map[uint32]*table{1: tb}, metrics: newTaskMetrics("bench-decode"), queue: make(chan []item, 1024),
		partition: map[string]any{"server": "bench"}}
	defer task.metrics.unregister()
	done := make(chan struct{})
	go func() {
		for range task.queue {
		}
		close(done)
	}()
	ctx := context.Background()
	begin := []byte{'B'}
	begin = binary.BigEndian.AppendUint64(begin, 1<<40)
	begin = binary.BigEndian.AppendUint64(begin, uint64(time.Now().UnixMicro()))
	begin = binary.BigEndian.AppendUint32(begin, 777)
	var tx *txState
	if tx, err = task.decodeMessage(ctx, pglogrepl.XLogData{WALData: begin}, nil); err != nil {
		b.Fatal(err)
	}
	insert := func(id int) []byte {
		m := []byte{'I'}
		m = binary.BigEndian.AppendUint32(m, 1)
		m = append(m, 'N')
		m = binary.BigEndian.AppendUint16(m, 5)
		for _, v := range []string{strconv.Itoa(id), strconv.Itoa(id % 1000), "1234.50", "note " + strconv.Itoa(id), "2026-11-26 10:00:00.123456+00"} {
			m = append(m, 't')
			m = binary.BigEndian.AppendUint32(m, uint32(len(v)))
			m = append(m, v...)
		}
		return m
	}
	msgs := make([][]byte, 1024)
	for i := range msgs {
		msgs[i] = insert(i + 1)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if tx, err = task.decodeMessage(ctx, pglogrepl.XLogData{WALStart: pglogrepl.LSN(i), WALData: msgs[i%len(msgs)]}, tx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "changes/s")
	close(task.queue)
	<-done
}
