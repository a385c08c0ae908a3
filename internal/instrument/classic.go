package instrument

import (
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Group is the merge of the histogram series that map to one label tuple of a classic-mode
// metric (WithClassicNames): classic names have fewer labels than the semantic conventions' ones,
// so several recorded series make one classic series.
type Group struct {
	Labels  []string
	Count   uint64
	Sum     float64
	Buckets map[float64]uint64 // cumulative counts by upper bound
}

// Regroup gathers the histogram series of c and merges those for which key returns the same
// label values. It runs at scrape time only: recording is the same in both modes.
func Regroup(c prometheus.Collector, key func(labels map[string]string) []string) []*Group {
	groups := map[string]*Group{}
	var order []string
	each(c, func(m *dto.Metric) {
		h := m.GetHistogram()
		if h == nil {
			return
		}
		labels := make(map[string]string, len(m.GetLabel()))
		for _, p := range m.GetLabel() {
			labels[p.GetName()] = p.GetValue()
		}
		values := key(labels)
		k := strings.Join(values, "\xff")
		g := groups[k]
		if g == nil {
			g = &Group{Labels: values, Buckets: map[float64]uint64{}}
			groups[k] = g
			order = append(order, k)
		}
		g.Count += h.GetSampleCount()
		g.Sum += h.GetSampleSum()
		for _, b := range h.GetBucket() {
			g.Buckets[b.GetUpperBound()] += b.GetCumulativeCount()
		}
	})
	slices.Sort(order)
	out := make([]*Group, len(order))
	for i, k := range order {
		out[i] = groups[k]
	}
	return out
}

// GaugeSum is the sum of the gauge series of c.
func GaugeSum(c prometheus.Collector) float64 {
	var sum float64
	each(c, func(m *dto.Metric) { sum += m.GetGauge().GetValue() })
	return sum
}

func each(c prometheus.Collector, f func(*dto.Metric)) {
	ch := make(chan prometheus.Metric, 64)
	go func() {
		c.Collect(ch)
		close(ch)
	}()
	for metric := range ch {
		var m dto.Metric
		if metric.Write(&m) == nil {
			f(&m)
		}
	}
}
