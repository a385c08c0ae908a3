package bench

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	otelruntime "go.opentelemetry.io/contrib/instrumentation/runtime"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/perfobs/perfobs-go/runtimemetrics"
)

// BenchmarkRuntimeScrape measures one scrape of the runtime collectors, side by side:
//
//   - perfobs: runtimemetrics.Register (Go collector over runtime/metrics, process collector,
//     target_info), gathered from a prometheus.Registry;
//   - client_golang_default: collectors.NewGoCollector() with its defaults plus the process
//     collector, which is what prometheus.DefaultRegisterer (and so promhttp.Handler) holds;
//   - perfobs_go_only and client_golang_default_go_only: the same without the process collector;
//   - otel_runtime: go.opentelemetry.io/contrib/instrumentation/runtime (Start and its Producer for
//     the scheduler histogram) read through an sdk/metric ManualReader; its ReadMemStats-era cache
//     is turned off (minimum interval 0) so that every Collect reads the runtime, as a scrape does.
//
// Besides ns/op it reports cpu-ns/op, the process CPU time per scrape: on a shared machine it is
// the steadier number.
//
// Run: cd bench && go test -run '^$' -bench BenchmarkRuntimeScrape -benchmem -count 10 -benchtime 300x . | tee rt.txt
// and compare with: go run golang.org/x/perf/cmd/benchstat rt.txt (from the repository root).
func BenchmarkRuntimeScrape(b *testing.B) {
	b.Run("perfobs", func(b *testing.B) {
		reg := prometheus.NewRegistry()
		if err := runtimemetrics.Register(reg, runtimemetrics.WithService("bench")); err != nil {
			b.Fatal(err)
		}
		gatherLoop(b, reg)
	})
	b.Run("client_golang_default", func(b *testing.B) {
		reg := prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		gatherLoop(b, reg)
	})
	// Without the process collector, which reads /proc and dominates the two above (OTel's runtime
	// instrumentation has no process metrics).
	b.Run("perfobs_go_only", func(b *testing.B) {
		reg := prometheus.NewRegistry()
		if err := runtimemetrics.Register(reg, runtimemetrics.WithService("bench"), runtimemetrics.WithoutProcessCollector()); err != nil {
			b.Fatal(err)
		}
		gatherLoop(b, reg)
	})
	b.Run("client_golang_default_go_only", func(b *testing.B) {
		reg := prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector())
		gatherLoop(b, reg)
	})
	b.Run("otel_runtime", func(b *testing.B) {
		reader := sdkmetric.NewManualReader(sdkmetric.WithProducer(
			otelruntime.NewProducer(otelruntime.WithMinimumReadMemStatsInterval(0).(otelruntime.ProducerOption))))
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
		defer func() { _ = mp.Shutdown(context.Background()) }()
		if err := otelruntime.Start(otelruntime.WithMeterProvider(mp), otelruntime.WithMinimumReadMemStatsInterval(0)); err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		var rm metricdata.ResourceMetrics
		if err := reader.Collect(ctx, &rm); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		cpu0 := processCPU()
		for b.Loop() {
			if err := reader.Collect(ctx, &rm); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		reportCPU(b, cpu0)
		n := 0
		for _, sm := range rm.ScopeMetrics {
			n += len(sm.Metrics)
		}
		b.ReportMetric(float64(n), "families")
	})
}

func gatherLoop(b *testing.B, g prometheus.Gatherer) {
	mfs, err := g.Gather()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU()
	for b.Loop() {
		if _, err := g.Gather(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportCPU(b, cpu0)
	b.ReportMetric(float64(len(mfs)), "families")
}

// reportCPU reports the process CPU time per operation since cpu0 (GC included), which a busy
// machine disturbs much less than wall time.
func reportCPU(b *testing.B, cpu0 time.Duration) {
	if cpu := processCPU() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}
