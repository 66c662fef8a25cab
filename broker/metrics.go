package broker

// Broker metrics, registered on the Registerer from Config. Per-partition
// gauges (log size, end offset) are read at scrape time by a collector, so
// the produce and fetch paths only touch counters.

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kmsg"
)

type metrics struct {
	bytesIn, recordsIn, bytesOut, recordsOut *prometheus.CounterVec
	requestSeconds                           *prometheus.HistogramVec
	fsync                                    prometheus.Histogram
	commitWait                               *prometheus.HistogramVec
	connections                              prometheus.Gauge

	mu        sync.Mutex
	perTopic  map[string]*topicCounters
	perAPIObs map[int16]prometheus.Observer
}

// topicCounters caches the labelled counters of one topic so the hot path
// does no label lookups.
type topicCounters struct {
	bytesIn, recordsIn, bytesOut, recordsOut prometheus.Counter
}

func newMetrics(s *Server, reg prometheus.Registerer) *metrics {
	m := &metrics{
		bytesIn:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_broker_topic_bytes_in_total", Help: "Record batch bytes appended, by topic."}, []string{"topic"}),
		recordsIn:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_broker_topic_records_in_total", Help: "Records appended, by topic."}, []string{"topic"}),
		bytesOut:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_broker_topic_bytes_out_total", Help: "Record batch bytes served to fetches, by topic."}, []string{"topic"}),
		recordsOut: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_broker_topic_records_out_total", Help: "Records served to fetches (counted per whole batch), by topic."}, []string{"topic"}),
		requestSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "sluice_broker_request_duration_seconds", Help: "Time from reading a request to writing its response, by API.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 1.5, 26)}, []string{"api"}),
		fsync: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sluice_broker_fsync_duration_seconds", Help: "fdatasync latency of partition logs.",
			Buckets: prometheus.ExponentialBuckets(0.00005, 2, 16)}),
		commitWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "sluice_broker_txn_commit_wait_seconds",
			Help:    "What EndTxn(commit) waits for, in parallel: its data to be durable (wait=\"data\") and its decision record (wait=\"decision\").",
			Buckets: prometheus.ExponentialBuckets(0.00005, 2, 16)}, []string{"wait"}),
		connections: prometheus.NewGauge(prometheus.GaugeOpts{Name: "sluice_broker_open_connections", Help: "Open client connections."}),
		perTopic:    map[string]*topicCounters{},
		perAPIObs:   map[int16]prometheus.Observer{},
	}
	reg.MustRegister(m.bytesIn, m.recordsIn, m.bytesOut, m.recordsOut, m.requestSeconds, m.fsync, m.commitWait, m.connections, &partitionCollector{s: s})
	return m
}

func (m *metrics) topic(name string) *topicCounters {
	m.mu.Lock()
	defer m.mu.Unlock()
	tc := m.perTopic[name]
	if tc == nil {
		tc = &topicCounters{m.bytesIn.WithLabelValues(name), m.recordsIn.WithLabelValues(name), m.bytesOut.WithLabelValues(name), m.recordsOut.WithLabelValues(name)}
		m.perTopic[name] = tc
	}
	return tc
}

// forgetTopic drops a deleted topic's series.
func (m *metrics) forgetTopic(name string) {
	m.mu.Lock()
	delete(m.perTopic, name)
	m.mu.Unlock()
	for _, v := range []*prometheus.CounterVec{m.bytesIn, m.recordsIn, m.bytesOut, m.recordsOut} {
		v.DeleteLabelValues(name)
	}
}

func (m *metrics) observeRequest(key int16, d time.Duration) {
	m.mu.Lock()
	o := m.perAPIObs[key]
	if o == nil {
		o = m.requestSeconds.WithLabelValues(kmsg.NameForKey(key))
		m.perAPIObs[key] = o
	}
	m.mu.Unlock()
	o.Observe(d.Seconds())
}

var (
	logSizeDesc   = prometheus.NewDesc("sluice_broker_log_size_bytes", "Size of a partition log on disk.", []string{"topic", "partition"}, nil)
	logEndDesc    = prometheus.NewDesc("sluice_broker_log_end_offset", "High watermark (end of durable records) of a partition.", []string{"topic", "partition"}, nil)
	logStartDesc  = prometheus.NewDesc("sluice_broker_log_start_offset", "First readable offset of a partition.", []string{"topic", "partition"}, nil)
	partitionsDsc = prometheus.NewDesc("sluice_broker_partitions", "Number of partitions.", nil, nil)
)

type partitionCollector struct{ s *Server }

func (c *partitionCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- logSizeDesc
	ch <- logEndDesc
	ch <- logStartDesc
	ch <- partitionsDsc
}

func (c *partitionCollector) Collect(ch chan<- prometheus.Metric) {
	if c.s.topics == nil {
		return
	}
	n := 0
	for _, t := range c.s.topics.all() {
		for p, l := range t.partitions {
			start, hw, size := l.Offsets()
			ps := strconv.Itoa(p)
			ch <- prometheus.MustNewConstMetric(logSizeDesc, prometheus.GaugeValue, float64(size), t.Name, ps)
			ch <- prometheus.MustNewConstMetric(logEndDesc, prometheus.GaugeValue, float64(hw), t.Name, ps)
			ch <- prometheus.MustNewConstMetric(logStartDesc, prometheus.GaugeValue, float64(start), t.Name, ps)
			n++
		}
	}
	ch <- prometheus.MustNewConstMetric(partitionsDsc, prometheus.GaugeValue, float64(n))
}
