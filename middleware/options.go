package middleware

import (
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/perfobs/perfobs-go/internal/instrument"
)

// Option configures the HTTP middleware, the client Transport and the gRPC interceptors of
// package grpcmw. Options are made only by this module's With* functions.
type Option = instrument.Option

// WithRegisterer sets where the metrics are registered. Without it, standalone middleware
// registers on prometheus.DefaultRegisterer, which promhttp.Handler() serves.
func WithRegisterer(r prometheus.Registerer) Option { return instrument.WithRegisterer(r) }

// WithDurationBuckets sets the upper bounds, in seconds, of the duration histograms. The default
// is the OpenTelemetry semantic conventions' set, 0.005 s to 10 s. SLO latency thresholds must be
// one of these bounds.
func WithDurationBuckets(bounds ...float64) Option { return instrument.WithDurationBuckets(bounds...) }

// WithBodySizes turns on http_server_request_body_size_bytes and
// http_server_response_body_size_bytes (opt-in, as the semantic conventions mark them). The
// request size is the Content-Length, or the bytes the handler read when there is none.
func WithBodySizes() Option { return instrument.WithBodySizes() }

// WithSizeBuckets sets the body-size histograms' upper bounds in bytes (default: powers of four
// from 64 B to 64 MiB). It needs WithBodySizes.
func WithSizeBuckets(bounds ...float64) Option { return instrument.WithSizeBuckets(bounds...) }

// WithServeMux names the ServeMux behind the middleware. When something copies the request
// before the mux (an inner r.WithContext), r.Pattern stays empty on the middleware's copy; the
// middleware then asks mux which pattern the request matches.
func WithServeMux(mux *http.ServeMux) Option { return instrument.WithServeMux(mux) }

// WithRouteFunc sets a function that returns the route template of a request after it was
// served, for routers other than http.ServeMux (chi, gorilla/mux). Its results are capped like
// every route: see WithLabelCap.
func WithRouteFunc(f func(r *http.Request) string) Option { return instrument.WithRouteFunc(f) }

// WithLabelCap bounds how many distinct values http_route (and gRPC's rpc_method, the client's
// server_address) may take; later new values are recorded as "_OTHER", counted in
// perfobs_label_overflow_total and logged at most every 10 s. Default 1000.
func WithLabelCap(n int) Option { return instrument.WithLabelCap(n) }

// WithSkip excludes the requests for which f returns true from every metric.
func WithSkip(f func(r *http.Request) bool) Option { return instrument.WithSkip(f) }

// WithSkipPaths excludes requests whose URL path is exactly one of paths (health checks,
// /metrics) from every metric.
func WithSkipPaths(paths ...string) Option { return instrument.WithSkipPaths(paths...) }

// WithMethodFilter records only the gRPC calls whose full method name ("/pkg.Service/Method")
// f accepts; use it to leave out health checks and reflection.
func WithMethodFilter(f func(fullMethod string) bool) Option { return instrument.WithMethodFilter(f) }

// WithLogger sets the logger of rate-limited warnings. Default slog.Default().
func WithLogger(l *slog.Logger) Option { return instrument.WithLogger(l) }

// WithNativeHistograms adds native-histogram buckets (schema 3: each bucket about 9% wider than
// the one below, so a quantile is off by at most about 4.5%) beside the classic buckets of every
// histogram. MetricsHandler serves them over the protobuf format, which a Prometheus started
// with --enable-feature=native-histograms negotiates. Such a Prometheus 2.x then stores only the
// native series of these histograms (no _bucket, _count, _sum): query them with
// histogram_quantile, histogram_count and histogram_fraction, or set scrape_classic_histograms
// (always_scrape_classic_histograms on Prometheus 3) to keep the classic series too. Each
// observation costs one more uncontended atomic add.
func WithNativeHistograms() Option { return instrument.WithNativeHistograms() }

// WithTracerProvider turns tracing on: the middleware starts a server span per request (named
// "METHOD /route"), Transport a client span per round trip, both with the semantic conventions'
// attributes, and trace context and baggage propagate through headers (see WithPropagator). A
// sampled request attaches its trace_id and span_id to its duration observation as an exemplar,
// which MetricsHandler serves in the OpenMetrics format. Without this option the middleware
// starts no span and reads no header.
func WithTracerProvider(tp trace.TracerProvider) Option { return instrument.WithTracerProvider(tp) }

// WithPropagator sets how trace context and baggage travel in headers. Default: W3C trace
// context and W3C baggage (propagation.TraceContext and propagation.Baggage). It needs
// WithTracerProvider.
func WithPropagator(p propagation.TextMapPropagator) Option { return instrument.WithPropagator(p) }
