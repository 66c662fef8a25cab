package jdbc

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/sql/types"
)

// BenchmarkUpsert measures rows/s upserted in batches of 500 (one Put, one
// transaction, one multi-row statement) into an 8-column table. Keys cycle
// over 20,000 ids, so after the first pass every row is an update.
//
//	go test ./connect/jdbc -run '^$' -bench Upsert -benchtime 200x
func BenchmarkUpsert(b *testing.B) {
	const batch = 500
	schema := &connect.Schema{Type: connect.Struct, Name: "Order", Fields: []connect.Field{
		{Name: "id", Schema: &connect.Schema{Type: connect.Int64}},
		{Name: "customer", Schema: &connect.Schema{Type: connect.String}},
		{Name: "email", Schema: &connect.Schema{Type: connect.String, Optional: true}},
		{Name: "amount", Schema: &connect.Schema{Type: connect.Bytes, Name: connect.DecimalName, Parameters: map[string]string{"scale": "2"}}},
		{Name: "created", Schema: &connect.Schema{Type: connect.Int64, Name: connect.TimestampName}},
		{Name: "paid", Schema: &connect.Schema{Type: connect.Boolean}},
		{Name: "score", Schema: &connect.Schema{Type: connect.Float64}},
		{Name: "note", Schema: &connect.Schema{Type: connect.String, Optional: true}},
	}}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	batches := make([][]*connect.Record, 40)
	for i := range batches {
		for j := range batch {
			id := int64(i*batch + j)
			v := connect.NewStruct(schema).Put("id", id).Put("customer", fmt.Sprintf("customer-%d", id%997)).
				Put("email", fmt.Sprintf("c%d@example.com", id)).Put("amount", types.NewDec(id*37%100000, 2)).
				Put("created", now.Add(time.Duration(id)*time.Second)).Put("paid", id%2 == 0).
				Put("score", float64(id)/7).Put("note", nil)
			batches[i] = append(batches[i], &connect.Record{Topic: "orders", Offset: id, Value: v, ValueSchema: schema})
		}
	}
	for _, name := range []string{"postgres", "mariadb"} {
		b.Run(name, func(b *testing.B) {
			tdb := newTestDB(b, name)
			tk := startTask(b, tdb, connect.Config{"auto.create": "true", "pk.mode": "record_value", "pk.fields": "id",
				"insert.mode": "upsert", "batch.size": "500"})
			put(b, tk, batches[0]...) // create the table outside the timing
			b.ResetTimer()
			start, cpu := time.Now(), cpuTime()
			for i := range b.N {
				put(b, tk, batches[i%len(batches)]...)
			}
			rows := float64(b.N * batch)
			b.ReportMetric(rows/time.Since(start).Seconds(), "rows/s")
			// The sink's own CPU (this process, not the database's): a figure
			// that holds up on a machine shared with other work.
			b.ReportMetric(rows/(cpuTime()-cpu).Seconds(), "rows/cpu-s")
		})
	}
}

// cpuTime is the user and system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
