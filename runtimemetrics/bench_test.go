package runtimemetrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// BenchmarkGather measures one scrape of the default set and of its parts. The process collector
// reads /proc and is the bulk of the cost on Linux. Peers: bench/runtime_test.go.
func BenchmarkGather(b *testing.B) {
	tests := []struct {
		name string
		c    func() (prometheus.Collector, error)
	}{
		{"Register", nil},
		{"GoCollector", func() (prometheus.Collector, error) { return newGoCollector(nil), nil }},
		{"ProcessCollector", func() (prometheus.Collector, error) {
			return collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), nil
		}},
		{"TargetInfo", func() (prometheus.Collector, error) { return newTargetInfo(&config{service: "s"}), nil }},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			reg := prometheus.NewRegistry()
			if tt.c == nil {
				if err := Register(reg); err != nil {
					b.Fatal(err)
				}
			} else {
				c, _ := tt.c()
				reg.MustRegister(c)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := reg.Gather(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
