package recorder

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// GaugeArray is a fixed set of gauges indexed by a small integer (for example method x scheme),
// each sharded like the histograms so that the increment at a request's start and the decrement
// at its end stay on the caller's shard. Only gauges that were ever touched are exposed.
type GaugeArray struct {
	desc    *prometheus.Desc
	labels  [][]string
	shards  int
	cells   []atomic.Int64 // gauge i, shard s at (i*shards+s)*cellsPerLine
	touched []atomic.Bool
}

// NewGaugeArray returns len(labels) gauges; labels[i] are the label values of gauge i.
func NewGaugeArray(name, help string, labelNames []string, labels [][]string) *GaugeArray {
	shards := Shards()
	return &GaugeArray{
		desc:    prometheus.NewDesc(name, help, labelNames, nil),
		labels:  labels,
		shards:  shards,
		cells:   make([]atomic.Int64, len(labels)*shards*cellsPerLine),
		touched: make([]atomic.Bool, len(labels)),
	}
}

// Add adds delta to gauge i on shard.
func (g *GaugeArray) Add(i, shard int, delta int64) {
	if !g.touched[i].Load() {
		g.touched[i].Store(true)
	}
	g.cells[(i*g.shards+(shard&(g.shards-1)))*cellsPerLine].Add(delta)
}

// Value returns the sum of gauge i over its shards.
func (g *GaugeArray) Value(i int) int64 {
	var v int64
	for s := 0; s < g.shards; s++ {
		v += g.cells[(i*g.shards+s)*cellsPerLine].Load()
	}
	return v
}

// Describe implements prometheus.Collector.
func (g *GaugeArray) Describe(ch chan<- *prometheus.Desc) { ch <- g.desc }

// Collect implements prometheus.Collector.
func (g *GaugeArray) Collect(ch chan<- prometheus.Metric) {
	for i := range g.labels {
		if g.touched[i].Load() {
			ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, float64(g.Value(i)), g.labels[i]...)
		}
	}
}
