package middleware

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/perfobs/perfobs-go/internal/instrument"
)

// Option configures HTTP, Transport and New, and the gRPC interceptors and stats handlers of
// package grpcmw. Each option's documentation says where it applies; passing an option where it
// does not apply (WithMethodFilter to HTTP, WithServeMux to a gRPC interceptor) is an error that
// names it. Options are made only by this package's With* functions, and a *Recorder is an
// Option too: it stands for the options New validated.
type Option interface{ carrier }

// carrier keeps Option's only method out of the documentation: it is instrument's.
type carrier = instrument.Carrier

// inst is embedded by the option types, for its method.
type inst = instrument.Option

type option struct{ inst }

// Scopes, in the words of the documentation.
const (
	everywhere = instrument.All
	serverOnly = instrument.HTTPServer
	grpcOnly   = instrument.GRPC
)

func newOption(name string, scope instrument.Scope, apply func(*instrument.Config)) Option {
	return option{instrument.NewOption(name, scope, apply)}
}

func invalid(name string, scope instrument.Scope, msg string) Option {
	return option{instrument.Invalid(name, scope, errors.New(msg))}
}

// WithRegisterer sets where the metrics are registered. Without it, standalone middleware
// registers on prometheus.DefaultRegisterer, which promhttp.Handler() serves. Everywhere.
func WithRegisterer(r prometheus.Registerer) Option {
	return newOption("WithRegisterer", everywhere, func(c *instrument.Config) { c.Registerer = r })
}

// WithDurationBuckets sets the upper bounds, in seconds, of the duration histograms. The default
// is the OpenTelemetry semantic conventions' set, 0.005 s to 10 s. SLO latency thresholds must be
// one of these bounds. Everywhere.
func WithDurationBuckets(bounds ...float64) Option {
	b := append([]float64(nil), bounds...)
	return newOption("WithDurationBuckets", everywhere, func(c *instrument.Config) { c.DurationBuckets = b })
}

// WithBodySizes turns on http_server_request_body_size_bytes and
// http_server_response_body_size_bytes (opt-in, as the semantic conventions mark them). The
// request size is the Content-Length, or the bytes the handler read when there is none. HTTP
// server only.
func WithBodySizes() Option {
	return newOption("WithBodySizes", serverOnly, func(c *instrument.Config) { c.BodySizes = true })
}

// WithSizeBuckets sets the body-size histograms' upper bounds in bytes (default: powers of four
// from 64 B to 64 MiB). It needs WithBodySizes. HTTP server only; gRPC messages have
// WithMessageSizeBuckets.
func WithSizeBuckets(bounds ...float64) Option {
	b := append([]float64(nil), bounds...)
	return newOption("WithSizeBuckets", serverOnly, func(c *instrument.Config) { c.SizeBuckets = b })
}

// WithMessageSizeBuckets sets the upper bounds, in bytes, of the gRPC message-size histograms
// that grpcmw's stats handlers record (default: powers of four from 64 B to 64 MiB). gRPC only.
func WithMessageSizeBuckets(bounds ...float64) Option {
	b := append([]float64(nil), bounds...)
	return newOption("WithMessageSizeBuckets", grpcOnly, func(c *instrument.Config) { c.MessageSizeBuckets = b })
}

// WithServeMux names the ServeMux behind the middleware. When something copies the request
// before the mux (an inner r.WithContext), r.Pattern stays empty on the middleware's copy; the
// middleware then asks mux which pattern the request matches. HTTP server only.
func WithServeMux(mux *http.ServeMux) Option {
	if mux == nil {
		return invalid("WithServeMux", serverOnly, "mux is nil")
	}
	return newOption("WithServeMux", serverOnly, func(c *instrument.Config) { c.ServeMux = mux })
}

// WithRouteFunc sets a function that returns the route template of a request after it was
// served, for routers other than http.ServeMux (the adapters under middleware/ use SetRoute
// instead). Its results are capped like every route: see WithLabelCap. HTTP server only.
func WithRouteFunc(f func(r *http.Request) string) Option {
	if f == nil {
		return invalid("WithRouteFunc", serverOnly, "function is nil")
	}
	return newOption("WithRouteFunc", serverOnly, func(c *instrument.Config) { c.RouteFunc = f })
}

// WithLabelCap bounds how many distinct values http_route (and gRPC's rpc_method, the client's
// server_address) may take; later new values are recorded as "_OTHER", counted in
// perfobs_label_overflow_total and logged at most every 10 s. Default 1000. Everywhere.
func WithLabelCap(n int) Option {
	return newOption("WithLabelCap", everywhere, func(c *instrument.Config) { c.LabelCap = n })
}

// WithSkip excludes the requests for which f returns true from every metric. HTTP server only.
func WithSkip(f func(r *http.Request) bool) Option {
	if f == nil {
		return invalid("WithSkip", serverOnly, "function is nil")
	}
	return newOption("WithSkip", serverOnly, func(c *instrument.Config) { c.Skip = f })
}

// WithSkipPaths excludes requests whose URL path is exactly one of paths (health checks,
// /metrics) from every metric. HTTP server only.
func WithSkipPaths(paths ...string) Option {
	ps := append([]string(nil), paths...)
	return newOption("WithSkipPaths", serverOnly, func(c *instrument.Config) {
		if c.SkipPaths == nil {
			c.SkipPaths = make(map[string]struct{}, len(ps))
		}
		for _, p := range ps {
			c.SkipPaths[p] = struct{}{}
		}
	})
}

// WithMethodFilter records only the gRPC calls whose full method name ("/pkg.Service/Method")
// f accepts; use it to leave out health checks and reflection (grpcmw.NotHealthOrReflection).
// gRPC only.
func WithMethodFilter(f func(fullMethod string) bool) Option {
	if f == nil {
		return invalid("WithMethodFilter", grpcOnly, "function is nil")
	}
	return newOption("WithMethodFilter", grpcOnly, func(c *instrument.Config) { c.MethodFilter = f })
}

// WithLogger sets the logger of rate-limited warnings. Default slog.Default(). Everywhere.
func WithLogger(l *slog.Logger) Option {
	return newOption("WithLogger", everywhere, func(c *instrument.Config) { c.Logger = l })
}

// WithNativeHistograms adds native-histogram buckets (schema 3: each bucket about 9% wider than
// the one below, so a quantile is off by at most about 4.5%) beside the classic buckets of every
// histogram; each observation costs one more uncontended atomic add. Prometheus 2.x with native
// histograms on then stores only the native series (see docs/middleware.md for the scrape
// setting that keeps the classic ones). Everywhere.
func WithNativeHistograms() Option {
	return newOption("WithNativeHistograms", everywhere, func(c *instrument.Config) { c.NativeHistograms = true })
}

// WithTracerProvider turns tracing on: a server span per request or call, a client span per
// round trip or call, W3C trace context and baggage propagated through headers and metadata
// (see WithPropagator), and the trace_id and span_id of sampled requests attached to their
// duration observations as exemplars. Without it no span is started and no header is read.
// Everywhere.
func WithTracerProvider(tp trace.TracerProvider) Option {
	if tp == nil {
		return invalid("WithTracerProvider", everywhere, "provider is nil")
	}
	return newOption("WithTracerProvider", everywhere, func(c *instrument.Config) { c.TracerProvider = tp })
}

// WithPropagator sets how trace context and baggage travel. Default: W3C trace context and W3C
// baggage. It needs WithTracerProvider. Everywhere.
func WithPropagator(p propagation.TextMapPropagator) Option {
	if p == nil {
		return invalid("WithPropagator", everywhere, "propagator is nil")
	}
	return newOption("WithPropagator", everywhere, func(c *instrument.Config) { c.Propagator = p })
}

// WithClassicNames writes the series that promhttp's instrumentation and go-grpc-middleware's
// Prometheus provider write, so that dashboards and alerts built on them keep working:
// http_requests_total and http_request_duration_seconds labelled by code, handler (the route
// template) and method (lower case), http_requests_in_flight, and grpc_server_handled_total,
// grpc_server_started_total and grpc_server_handling_seconds (grpc_client_* for clients) labelled
// by grpc_type, grpc_service, grpc_method (and grpc_code). The duration buckets default to
// client_golang's (prometheus.DefBuckets). Recording costs the same as in the default mode; the
// series are renamed and merged when scraped, without exemplars. The names are in package
// catalog (Classic*); docs/migration.md compares them. It does not combine with
// WithNativeHistograms. Everywhere.
func WithClassicNames() Option {
	return newOption("WithClassicNames", everywhere, func(c *instrument.Config) { c.Classic = true })
}
