package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics, registered on the default registry with the server name as a
// constant label, unregistered when the task stops.

type taskMetrics struct {
	events             *prometheus.CounterVec
	byOp               map[string]prometheus.Counter // events' counters of streamed changes
	lagBytes           prometheus.Gauge
	snapshotRows       prometheus.Counter
	snapshotTables     prometheus.Gauge
	snapshotTablesDone prometheus.Gauge
	all                []prometheus.Collector
}

func newTaskMetrics(server string) *taskMetrics {
	l := prometheus.Labels{"server": server}
	m := &taskMetrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_postgres_cdc_events_total",
			Help: "Change events emitted, by operation (r c u d t).", ConstLabels: l}, []string{"op"}),
		lagBytes: prometheus.NewGauge(prometheus.GaugeOpts{Name: "sluice_postgres_cdc_slot_lag_bytes",
			Help: "WAL bytes between the server's current position and the slot's confirmed position.", ConstLabels: l}),
		snapshotRows: prometheus.NewCounter(prometheus.CounterOpts{Name: "sluice_postgres_cdc_snapshot_rows_total",
			Help: "Rows read by the snapshot.", ConstLabels: l}),
		snapshotTables: prometheus.NewGauge(prometheus.GaugeOpts{Name: "sluice_postgres_cdc_snapshot_tables",
			Help: "Tables in the snapshot.", ConstLabels: l}),
		snapshotTablesDone: prometheus.NewGauge(prometheus.GaugeOpts{Name: "sluice_postgres_cdc_snapshot_tables_completed",
			Help: "Tables the snapshot finished.", ConstLabels: l}),
	}
	m.byOp = map[string]prometheus.Counter{}
	for _, op := range []string{"c", "u", "d"} {
		m.byOp[op] = m.events.WithLabelValues(op)
	}
	m.all = []prometheus.Collector{m.events, m.lagBytes, m.snapshotRows, m.snapshotTables, m.snapshotTablesDone}
	for _, c := range m.all {
		// A second task of the same server (a restart in one process) takes
		// over the registration.
		prometheus.DefaultRegisterer.Unregister(c)
		_ = prometheus.DefaultRegisterer.Register(c)
	}
	return m
}

// event is the counter of events of operation op, looked up once.
func (m *taskMetrics) event(op string) prometheus.Counter {
	if c, ok := m.byOp[op]; ok {
		return c
	}
	return m.events.WithLabelValues(op)
}

func (m *taskMetrics) unregister() {
	for _, c := range m.all {
		prometheus.DefaultRegisterer.Unregister(c)
	}
}

// lagEvery is how often the slot's lag is read.
const lagEvery = 5 * time.Second

// watchLag reads the slot's lag every lagEvery until ctx is done, on a
// connection of its own: on the stream's catalog connection the query held
// up the stream for its round trip, a latency spike every few seconds on a
// busy server. A failed read is tried again at the next tick.
func (t *Task) watchLag(ctx context.Context) {
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = conn.Close(cctx)
		}
	}()
	tick := time.NewTicker(lagEvery)
	defer tick.Stop()
	for {
		if conn == nil || conn.IsClosed() {
			cfg, err := pgx.ParseConfig(t.c.connString(false))
			if err == nil {
				conn, _ = pgx.ConnectConfig(ctx, cfg)
			}
		}
		if conn != nil && !conn.IsClosed() {
			var lag *int64
			err := conn.QueryRow(ctx, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint FROM pg_replication_slots WHERE slot_name = $1", t.c.slot).Scan(&lag)
			if err == nil && lag != nil {
				t.metrics.lagBytes.Set(float64(*lag))
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
