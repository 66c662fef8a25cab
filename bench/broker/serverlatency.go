package broker

import (
	"fmt"
	"math"
	"net/http"
	"sort"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape reads the metric families the broker exposes at metricsURL.
func scrape(metricsURL string) (map[string]*dto.MetricFamily, error) {
	resp, err := http.Get(metricsURL)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", metricsURL, err)
	}
	return fams, nil
}

// produceHistogram scrapes the broker's request latency histogram for
// Produce: bucket upper bounds (seconds) and cumulative counts.
func produceHistogram(metricsURL string) (map[float64]uint64, error) {
	fams, err := scrape(metricsURL)
	if err != nil {
		return nil, err
	}
	fam := fams["sluice_broker_request_duration_seconds"]
	if fam == nil {
		return nil, fmt.Errorf("%s has no sluice_broker_request_duration_seconds", metricsURL)
	}
	out := map[float64]uint64{}
	for _, m := range fam.GetMetric() {
		api := ""
		for _, l := range m.GetLabel() {
			if l.GetName() == "api" {
				api = l.GetValue()
			}
		}
		if !strings.EqualFold(api, "Produce") {
			continue
		}
		for _, b := range m.GetHistogram().GetBucket() {
			out[b.GetUpperBound()] = b.GetCumulativeCount()
		}
	}
	return out, nil
}

// histogramSummary turns the difference of two cumulative histograms into
// p50/p99/max, each reported as the upper bound of its bucket.
func histogramSummary(before, after map[float64]uint64) LatencySummary {
	bounds := make([]float64, 0, len(after))
	for b := range after {
		bounds = append(bounds, b)
	}
	sort.Float64s(bounds)
	total := after[math.Inf(1)] - before[math.Inf(1)]
	if total == 0 {
		return LatencySummary{}
	}
	at := func(q float64) time.Duration {
		want := uint64(math.Ceil(q * float64(total)))
		for _, b := range bounds {
			if after[b]-before[b] >= want {
				if math.IsInf(b, 1) {
					return -1
				}
				return time.Duration(b * float64(time.Second))
			}
		}
		return -1
	}
	return LatencySummary{Count: int(total), P50: at(0.50), P99: at(0.99), Max: at(1)}
}

// histSum is a histogram's running sum (seconds) and count.
type histSum struct {
	sum   float64
	count uint64
}

// brokerWaits scrapes the sums and counts of the broker's histograms that
// say where a transaction's time goes on the broker: the request latency of
// Produce and EndTxn ("Produce", "EndTxn") and a commit's two parallel waits
// ("commit data", "commit decision"), and every sync the broker made
// ("sync": fdatasyncs and syncfs rounds).
func brokerWaits(metricsURL string) (map[string]histSum, error) {
	fams, err := scrape(metricsURL)
	if err != nil {
		return nil, err
	}
	out := map[string]histSum{}
	if fam := fams["sluice_broker_fsync_duration_seconds"]; fam != nil && len(fam.GetMetric()) > 0 {
		h := fam.GetMetric()[0].GetHistogram()
		out["sync"] = histSum{h.GetSampleSum(), h.GetSampleCount()}
	}
	for name, label := range map[string]string{"sluice_broker_request_duration_seconds": "api", "sluice_broker_txn_commit_wait_seconds": "wait"} {
		fam := fams[name]
		if fam == nil {
			continue
		}
		for _, m := range fam.GetMetric() {
			key := ""
			for _, l := range m.GetLabel() {
				if l.GetName() == label {
					key = l.GetValue()
				}
			}
			if label == "wait" {
				key = "commit " + key
			}
			h := m.GetHistogram()
			out[key] = histSum{h.GetSampleSum(), h.GetSampleCount()}
		}
	}
	return out, nil
}
