// Package perfobs is the facade of perfobs-go: one Start gives a service RED metrics for HTTP
// (and, through package grpcmw with MiddlewareOptions, gRPC), Go runtime metrics read without
// stopping the world, a /metrics handler, and continuous profiling to Pyroscope when configured.
//
//	obs, err := perfobs.Start(ctx, perfobs.Config{Service: "checkout", Version: "1.4.2"})
//	if err != nil { ... }
//	defer obs.Shutdown(context.Background())
//	mux.Handle("GET /metrics", obs.MetricsHandler())
//	srv := &http.Server{Handler: obs.HTTP(mux)}
//
// The Observer keeps its own registry; it never touches prometheus.DefaultRegisterer. The
// service adds its own collectors through Registerer. Settings come from Config first, then from
// the standard variables OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES and PYROSCOPE_*.
package perfobs
