package runtime

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the runtime's Prometheus series, labelled by connector and
// task. They are registered once per Registerer (a second worker in one
// process, as in tests, reuses the registered collectors).
type metrics struct {
	polled       *prometheus.CounterVec   // source: records returned by poll
	written      *prometheus.CounterVec   // source: records acknowledged by the broker; sink: records put
	read         *prometheus.CounterVec   // sink: records consumed
	batch        *prometheus.HistogramVec // records per poll / put
	errors       *prometheus.CounterVec   // failures by stage
	deadLettered *prometheus.CounterVec
	commitLag    *prometheus.GaugeVec     // sink: records behind the high watermark after the last commit; source: records acknowledged but not committed
	commitTime   *prometheus.HistogramVec // offset commit latency
}

func register[T prometheus.Collector](reg prometheus.Registerer, c T) T {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			return are.ExistingCollector.(T)
		}
		panic(err)
	}
	return c
}

func newMetrics(reg prometheus.Registerer) *metrics {
	ct := []string{"connector", "task"}
	return &metrics{
		polled: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_connect_source_records_polled_total",
			Help: "Records returned by source tasks' poll, before transforms."}, ct)),
		written: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_connect_records_written_total",
			Help: "Records written: by source tasks to Kafka (acknowledged), by sink tasks to the external system (put)."}, ct)),
		read: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_connect_sink_records_read_total",
			Help: "Records consumed by sink tasks from Kafka."}, ct)),
		batch: register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "sluice_connect_batch_size_records",
			Help: "Records per source poll or sink put.", Buckets: prometheus.ExponentialBuckets(1, 4, 8)}, ct)),
		errors: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_connect_errors_total",
			Help: "Record failures by stage (KEY_CONVERTER, TRANSFORMATION, TASK_PUT ...)."}, append(ct, "stage"))),
		deadLettered: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_connect_deadletter_records_total",
			Help: "Records written to the dead-letter topic."}, ct)),
		commitLag: register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "sluice_connect_offset_commit_lag_records",
			Help: "Sink: records between the committed offsets and the high watermarks of the task's partitions. Source: records acknowledged whose offsets are not yet committed."}, ct)),
		commitTime: register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "sluice_connect_offset_commit_seconds",
			Help: "Time to commit offsets (source: offsets topic and SourceTask.Commit; sink: Flush and consumer offset commit).", Buckets: prometheus.DefBuckets}, ct)),
	}
}

func (m *metrics) forget(connector, task string) {
	for _, v := range []*prometheus.CounterVec{m.polled, m.written, m.read, m.deadLettered} {
		v.DeleteLabelValues(connector, task)
	}
	m.errors.DeletePartialMatch(prometheus.Labels{"connector": connector, "task": task})
	m.batch.DeleteLabelValues(connector, task)
	m.commitLag.DeleteLabelValues(connector, task)
	m.commitTime.DeleteLabelValues(connector, task)
}
