package runtimemetrics

import (
	"runtime"
	"runtime/metrics"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// otherPauses returns how many non-GC stop-the-world pauses the runtime has made so far.
func otherPauses(t *testing.T) uint64 {
	t.Helper()
	s := []metrics.Sample{{Name: "/sched/pauses/total/other:seconds"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64Histogram {
		t.Fatalf("runtime/metrics has no /sched/pauses/total/other:seconds (kind %v)", s[0].Value.Kind())
	}
	var n uint64
	for _, c := range s[0].Value.Float64Histogram().Counts {
		n += c
	}
	return n
}

// TestScrapeDoesNotStopTheWorld scrapes a registry many times and counts the runtime's non-GC
// stop-the-world pauses meanwhile. The control cases prove that the count sees what we look for: a
// collector that calls runtime.ReadMemStats adds one pause per scrape.
func TestScrapeDoesNotStopTheWorld(t *testing.T) {
	const scrapes = 200
	tests := []struct {
		name     string
		register func(reg *prometheus.Registry) error
		wantSTW  bool
	}{
		{
			name:     "Register default set",
			register: func(reg *prometheus.Registry) error { return Register(reg) },
		},
		{
			name: "Register with every option",
			register: func(reg *prometheus.Registry) error {
				return Register(reg, WithService("s"), WithPauseHistograms(), WithAllocSizeHistograms(),
					WithRuntimeMetrics("/sched/goroutines/runnable:goroutines"))
			},
		},
		{
			name: "control: a collector calling runtime.ReadMemStats",
			register: func(reg *prometheus.Registry) error {
				return reg.Register(readMemStatsCollector{})
			},
			wantSTW: true,
		},
		{
			name: "control: Register plus runtime.ReadMemStats per scrape",
			register: func(reg *prometheus.Registry) error {
				if err := Register(reg); err != nil {
					return err
				}
				return reg.Register(readMemStatsCollector{})
			},
			wantSTW: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			if err := tt.register(reg); err != nil {
				t.Fatal(err)
			}
			if _, err := reg.Gather(); err != nil { // warm up: first-use allocations, lazy init
				t.Fatal(err)
			}
			before := otherPauses(t)
			for range scrapes {
				if _, err := reg.Gather(); err != nil {
					t.Fatal(err)
				}
			}
			pauses := otherPauses(t) - before
			if tt.wantSTW {
				if pauses < scrapes {
					t.Fatalf("control made %d non-GC stop-the-world pauses in %d scrapes, want at least %d: the detector is blind",
						pauses, scrapes, scrapes)
				}
				return
			}
			// A per-scrape stop would give >= scrapes; allow a few from elsewhere in the process.
			if pauses > 2 {
				t.Fatalf("%d scrapes made %d non-GC stop-the-world pauses, want none", scrapes, pauses)
			}
			t.Logf("%d scrapes, %d non-GC stop-the-world pauses", scrapes, pauses)
		})
	}
}

// readMemStatsCollector is the control: it exports one number read with runtime.ReadMemStats.
type readMemStatsCollector struct{}

var readMemStatsDesc = prometheus.NewDesc("control_heap_alloc_bytes", "HeapAlloc from ReadMemStats.", nil, nil)

func (readMemStatsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- readMemStatsDesc }

func (readMemStatsCollector) Collect(ch chan<- prometheus.Metric) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	ch <- prometheus.MustNewConstMetric(readMemStatsDesc, prometheus.GaugeValue, float64(ms.HeapAlloc))
}

// TestClientGolangDefaultGoCollector documents why we turn client_golang's MemStats-like series
// off even though v1.25.0 computes them from runtime/metrics: the test pins that it does not stop
// the world either, so a regression in client_golang shows here first.
func TestClientGolangDefaultGoCollector(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector())
	before := otherPauses(t)
	for range 50 {
		if _, err := reg.Gather(); err != nil {
			t.Fatal(err)
		}
	}
	if n := otherPauses(t) - before; n > 2 {
		t.Fatalf("client_golang's default Go collector made %d stop-the-world pauses in 50 scrapes", n)
	}
}
