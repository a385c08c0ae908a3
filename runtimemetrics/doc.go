// Package runtimemetrics registers Go runtime, process and target-info metrics on a Prometheus
// registerer, reading the runtime only through runtime/metrics.
//
// Register adds three collectors:
//
//   - the Go collector: goroutines, threads, heap and memory classes, GC cycles, pauses and CPU
//     share, scheduler latency, GOGC, GOMEMLIMIT and GOMAXPROCS, all read with runtime/metrics.Read
//     (plus debug.ReadGCStats and runtime.NumGoroutine for the classic go_gc_duration_seconds and
//     go_goroutines series);
//   - the process collector: CPU seconds, resident and virtual memory, open and maximum file
//     descriptors, start time;
//   - target_info: one gauge of value 1 whose labels name the service, its version and
//     environment, the Go version and the main module's path and version.
//
// The collectors never call runtime.ReadMemStats. ReadMemStats stops the world: every goroutine of
// the process halts while it runs, so a scrape every few seconds would add a pause to the tail
// latency of every service that exposes the classic go_memstats_* series. runtime/metrics reads
// the same numbers without stopping anything; a test in this package proves it by counting the
// runtime's own non-GC stop-the-world pauses across many scrapes.
//
// The default set is small (about 60 series) and holds every runtime series the shipped alert
// rules and dashboards query; its metric names are constants in the internal catalogue.
// WithPauseHistograms, WithAllocSizeHistograms and WithRuntimeMetrics add fine-grained series.
//
// Cost: a scrape of the Go collector takes about a tenth of a millisecond; the process collector,
// which reads several files under /proc, takes several times that. Both run only when Prometheus
// scrapes, never on the request path. BenchmarkGather measures the parts; bench/runtime_test.go
// compares a scrape with client_golang's default collectors and OpenTelemetry's runtime
// instrumentation.
//
// Register may be called twice with the same options on one registerer: the second call reuses the
// collectors already registered.
package runtimemetrics
