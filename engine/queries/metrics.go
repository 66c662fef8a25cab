package queries

import (
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics holds the per-query metric families. One instance is registered per
// registry; DefaultMetrics registers on Prometheus' default registry.
type Metrics struct {
	in, out, errors *prometheus.CounterVec
	latency         *prometheus.HistogramVec
	lag             *prometheus.GaugeVec
}

var (
	defaultOnce    sync.Once
	defaultMetrics *Metrics
)

// DefaultMetrics returns the metrics registered on the default registry.
func DefaultMetrics() *Metrics {
	defaultOnce.Do(func() { defaultMetrics = NewMetrics(prometheus.DefaultRegisterer) })
	return defaultMetrics
}

// NewMetrics builds and registers the query metric families.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		in:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_query_records_in_total", Help: "Input records processed, by query."}, []string{"query"}),
		out:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_query_records_out_total", Help: "Output records produced, by query."}, []string{"query"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_query_errors_total", Help: "Errors that stopped a batch, by query."}, []string{"query"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "sluice_query_processing_seconds", Help: "Time to process one input record, by query.",
			Buckets: prometheus.ExponentialBuckets(0.000001, 4, 12)}, []string{"query"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "sluice_query_consumer_lag", Help: "Records behind the high watermark at the last poll, by query, topic and partition."}, []string{"query", "topic", "partition"}),
	}
	reg.MustRegister(m.in, m.out, m.errors, m.latency, m.lag)
	return m
}

// queryMetrics caches one query's labelled children so the hot path does no
// label lookups.
type queryMetrics struct {
	parent          *Metrics
	id              string
	in, out, errors prometheus.Counter
	latency         prometheus.Observer
}

func (m *Metrics) forQuery(id string) *queryMetrics {
	return &queryMetrics{parent: m, id: id, in: m.in.WithLabelValues(id), out: m.out.WithLabelValues(id),
		errors: m.errors.WithLabelValues(id), latency: m.latency.WithLabelValues(id)}
}

func (q *queryMetrics) lag(topic string, partition int32, n int64) {
	q.parent.lag.WithLabelValues(q.id, topic, strconv.Itoa(int(partition))).Set(float64(n))
}

// unregister drops a stopped query's series.
func (q *queryMetrics) unregister() {
	l := prometheus.Labels{"query": q.id}
	q.parent.in.Delete(l)
	q.parent.out.Delete(l)
	q.parent.errors.Delete(l)
	q.parent.latency.Delete(l)
	q.parent.lag.DeletePartialMatch(l)
}
