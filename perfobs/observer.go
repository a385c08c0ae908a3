package perfobs

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/perfobs/perfobs-go/internal/instrument"
	tracinglink "github.com/perfobs/perfobs-go/internal/tracing"
	"github.com/perfobs/perfobs-go/middleware"
	"github.com/perfobs/perfobs-go/perfobs/internal/profiling"
	"github.com/perfobs/perfobs-go/perfobs/internal/status"
	"github.com/perfobs/perfobs-go/runtimemetrics"
)

// Observer is a started SDK: its own metrics registry, the middleware recording into it, and the
// background parts (profiling, tracing) that Shutdown stops.
type Observer struct {
	cfg      *resolved
	reg      *prometheus.Registry
	rec      *middleware.Recorder
	mwOpts   []middleware.Option
	metrics  http.Handler
	profiler *profiling.Profiler // nil when profiling is off
	tracing  *tracing            // nil when tracing is off
	push     *metricsPush        // nil when the OTLP metrics push is off
	flight   *flightState        // nil when flight recording is off

	started   time.Time // when Start built the registry: "since start" on the status page
	debugOnce sync.Once
	debug     http.Handler
	status    *status.Handler // nil until DebugHandler is first called

	shutdownOnce sync.Once
	shutdownDone chan struct{}
	shutdownErr  error
}

// Start validates cfg, registers the metrics on a registry of the Observer's own (never the
// global one) and starts what cfg and the environment ask for. A bad configuration is an error
// naming the field or variable; Start never panics on it.
func Start(ctx context.Context, cfg Config) (*Observer, error) {
	if ctx == nil {
		return nil, errors.New("perfobs.Start: nil context")
	}
	rc, err := resolve(cfg)
	if err != nil {
		return nil, fmt.Errorf("perfobs.Start: %w", err)
	}
	o := &Observer{cfg: rc, reg: prometheus.NewRegistry(), started: time.Now(), shutdownDone: make(chan struct{})}
	// fail stops what already started; Start returns its error.
	fail := func(err error) (*Observer, error) {
		o.Shutdown(ctx)
		return nil, fmt.Errorf("perfobs.Start: %w", err)
	}
	if o.profiler, err = startProfiling(rc, rc.Logger); err != nil {
		return fail(fmt.Errorf("Config.Profiling: %w", err))
	}
	if o.profiler != nil {
		if err := o.reg.Register(o.profiler.Dropped()); err != nil {
			return fail(fmt.Errorf("Config.Profiling: %w", err))
		}
	}
	if o.tracing, err = startTracing(ctx, rc.TracerProvider, rc.Tracing, rc); err != nil {
		return fail(fmt.Errorf("Config.Tracing: %w", err))
	}
	o.mwOpts = []middleware.Option{middleware.WithRegisterer(o.reg), middleware.WithLogger(rc.Logger)}
	if o.tracing != nil {
		if o.profiler.CPU() {
			// Root spans label their goroutine, so CPU samples point back at the span.
			o.tracing.provider = tracinglink.WithProfileLabels(o.tracing.provider)
		}
		o.mwOpts = append(o.mwOpts, middleware.WithTracerProvider(o.tracing.provider))
		if rc.Tracing.Propagator != nil {
			o.mwOpts = append(o.mwOpts, middleware.WithPropagator(rc.Tracing.Propagator))
		}
	}
	if err := o.startFlightRecorder(); err != nil {
		return fail(fmt.Errorf("Config.FlightRecorder: %w", err))
	}
	o.mwOpts = append(o.mwOpts, rc.Middleware...)
	// The facade's options go to HTTP and gRPC alike: each is ignored where it does not apply.
	o.mwOpts = instrument.Lenient(o.mwOpts)
	if o.rec, err = middleware.New(o.mwOpts...); err != nil {
		return fail(fmt.Errorf("Config.Middleware: %w", err))
	}
	if !rc.DisableRuntimeMetrics {
		err := runtimemetrics.Register(o.reg, runtimemetrics.WithService(rc.Service),
			runtimemetrics.WithVersion(rc.Version), runtimemetrics.WithEnvironment(rc.Environment))
		if err != nil {
			return fail(fmt.Errorf("runtime metrics: %w", err))
		}
	}
	o.metrics = promhttp.HandlerFor(o.reg, promhttp.HandlerOpts{
		EnableOpenMetrics: true,                     // exemplars need OpenMetrics
		ErrorHandling:     promhttp.ContinueOnError, // a broken collector must not hide the healthy metrics
		Registry:          o.reg,                    // counts gathering errors in promhttp_metric_handler_errors_total
	})
	if o.push, err = startMetricsPush(ctx, rc.OTLPMetrics, o.reg, rc); err != nil {
		return fail(fmt.Errorf("Config.OTLPMetrics: %w", err))
	}
	return o, nil
}

// Service returns the resolved service name.
func (o *Observer) Service() string { return o.cfg.Service }

// Registerer is where the service registers its own collectors, so that MetricsHandler serves
// them beside the SDK's. Each collector is guarded: one whose Collect panics is left out of that
// scrape (the rest is served), counted in perfobs_collector_panics_total and logged at most once a
// minute; one whose Describe panics is refused with an error.
func (o *Observer) Registerer() prometheus.Registerer { return newSafeRegisterer(o.reg, o.cfg.Logger) }

// Gatherer reads the Observer's registry (for tests and in-process summaries).
func (o *Observer) Gatherer() prometheus.Gatherer { return o.reg }

// MetricsHandler serves the registry for Prometheus: OpenMetrics (with exemplars), protobuf
// (native histograms) or text, by content negotiation.
func (o *Observer) MetricsHandler() http.Handler { return o.metrics }

// HTTP wraps next with the RED middleware (see package middleware).
func (o *Observer) HTTP(next http.Handler) http.Handler { return middleware.HTTP(next, o.rec) }

// Transport wraps base (http.DefaultTransport when nil) with client-side RED metrics.
func (o *Observer) Transport(base http.RoundTripper) http.RoundTripper {
	return middleware.Transport(base, o.rec)
}

// MiddlewareOptions returns the options that record into this Observer, for the gRPC
// interceptors of package grpcmw (or another middleware.New). Unlike options made with the
// middleware's With* functions, each is ignored where it does not apply (Config.Middleware's
// WithSkipPaths by grpcmw, for example) instead of refused.
func (o *Observer) MiddlewareOptions() []middleware.Option {
	return append([]middleware.Option(nil), o.mwOpts...)
}

// TracerProvider returns the provider the middleware starts spans with, for the service's own
// spans (when profiling runs, its root spans are tied to profiles too); a no-op provider when
// tracing is off.
func (o *Observer) TracerProvider() trace.TracerProvider {
	if o.tracing == nil {
		return noop.NewTracerProvider()
	}
	return o.tracing.provider
}

// PprofHandler serves Go's runtime profiles under /debug/pprof/ (index, named profiles, CPU
// profile, execution trace, cmdline). Nothing mounts it: serve it on a separate, private
// listener, never on the service's public mux. Profiles reveal code paths, and a CPU profile or
// trace request makes the process work on demand. For the same reason the SDK does not import
// net/http/pprof, whose init registers its handlers on http.DefaultServeMux, so any service
// serving DefaultServeMux would publish them.
func (o *Observer) PprofHandler() http.Handler { return newPprofHandler() }

// Shutdown stops profiling and tracing, uploading what they hold, within ctx. It is idempotent:
// later and concurrent calls wait for the first (or their own ctx) and return its result.
func (o *Observer) Shutdown(ctx context.Context) error {
	o.shutdownOnce.Do(func() {
		go func() {
			defer close(o.shutdownDone)
			o.closeDebug()
			var errs []error
			// Spans and the last metrics first: the profiler's last upload may take the longest.
			if err := o.tracing.shutdown(ctx); err != nil {
				errs = append(errs, fmt.Errorf("tracing: %w", err))
			}
			if err := o.push.shutdown(ctx); err != nil {
				errs = append(errs, fmt.Errorf("OTLP metrics: %w", err))
			}
			if err := o.flight.shutdown(ctx); err != nil {
				errs = append(errs, fmt.Errorf("flight recorder: %w", err))
			}
			if err := o.profiler.Shutdown(ctx); err != nil {
				errs = append(errs, fmt.Errorf("profiling: %w", err))
			}
			o.shutdownErr = errors.Join(errs...)
		}()
	})
	select {
	case <-o.shutdownDone:
		return o.shutdownErr
	case <-ctx.Done():
		return fmt.Errorf("perfobs: shutdown: %w", ctx.Err())
	}
}
