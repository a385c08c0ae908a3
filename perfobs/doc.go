// Package perfobs is the facade of perfobs-go: one Start gives a service RED metrics for HTTP
// (and, through package grpcmw with MiddlewareOptions, gRPC), Go runtime metrics read without
// stopping the world, a /metrics handler with exemplars, and, when configured, continuous
// profiling to Pyroscope, OpenTelemetry tracing (server and client spans, exemplars linking
// histogram buckets to traces, spans linked to profiles) and an OTLP push of the metrics.
//
//	obs, err := perfobs.Start(ctx, perfobs.Config{Service: "checkout", Version: "1.4.2"})
//	if err != nil { ... }
//	defer obs.Shutdown(context.Background())
//	mux.Handle("GET /metrics", obs.MetricsHandler())
//	srv := &http.Server{Handler: obs.HTTP(mux)}
//
// DebugHandler serves pprof, a status page (RED per route and method over the last minute, 10
// minutes and hour, runtime, profiling, SLOs, flight-recorder snapshots) and its JSON API, for a
// private listener; the SDK never mounts it.
//
// The Observer keeps its own registry; it never touches prometheus.DefaultRegisterer. The
// service adds its own collectors through Registerer. Settings come from Config first, then from
// the standard variables OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_*,
// OTEL_EXPORTER_OTLP_* and PYROSCOPE_*. Without tracing or profiling configured, neither costs
// anything.
package perfobs
