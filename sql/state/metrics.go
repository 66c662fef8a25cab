package state

import (
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics holds the state store metric families. One instance is registered
// per registry; DefaultMetrics registers on Prometheus' default registry.
type Metrics struct {
	restoreSeconds *prometheus.HistogramVec
	restoredBytes  *prometheus.CounterVec
	restoredRecs   *prometheus.CounterVec
	sizeDesc       *prometheus.Desc

	mu   sync.Mutex
	open map[*Stores]struct{}
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

// NewMetrics builds and registers the state store metric families.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		restoreSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "sluice_state_restore_seconds",
			Help: "Time to restore a state store from its changelog, by query and store.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 10)},
			[]string{"query", "store"}),
		restoredBytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_state_restored_bytes_total",
			Help: "Key and value bytes replayed from changelogs, by query and store."}, []string{"query", "store"}),
		restoredRecs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_state_restored_records_total",
			Help: "Changelog records replayed, by query and store."}, []string{"query", "store"}),
		sizeDesc: prometheus.NewDesc("sluice_state_store_size_bytes", "Disk space used by an open state store, by query, store and partition.",
			[]string{"query", "store", "partition"}, nil),
		open: map[*Stores]struct{}{},
	}
	reg.MustRegister(m.restoreSeconds, m.restoredBytes, m.restoredRecs, storeSizeCollector{m})
	return m
}

func (m *Metrics) restored(query, store string, st restoreStats) {
	m.restoreSeconds.WithLabelValues(query, store).Observe(st.took.Seconds())
	m.restoredBytes.WithLabelValues(query, store).Add(float64(st.bytes))
	m.restoredRecs.WithLabelValues(query, store).Add(float64(st.records))
}

func (m *Metrics) track(s *Stores, on bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if on {
		m.open[s] = struct{}{}
	} else {
		delete(m.open, s)
	}
}

// storeSizeCollector reads the size of every open store at scrape time.
type storeSizeCollector struct{ m *Metrics }

func (c storeSizeCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.m.sizeDesc }

func (c storeSizeCollector) Collect(ch chan<- prometheus.Metric) {
	c.m.mu.Lock()
	all := make([]*Stores, 0, len(c.m.open))
	for s := range c.m.open {
		all = append(all, s)
	}
	c.m.mu.Unlock()
	for _, s := range all {
		for _, z := range s.sizes() {
			ch <- prometheus.MustNewConstMetric(c.m.sizeDesc, prometheus.GaugeValue, float64(z.bytes),
				s.opts.QueryID, z.store, strconv.Itoa(int(z.partition)))
		}
	}
}
