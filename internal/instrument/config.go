// Package instrument holds the configuration that the HTTP middleware and the gRPC interceptors
// share (middleware.Option is an alias of Option), plus the helpers both use to register metrics
// and to bound label values.
package instrument

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/internal/tracing"
)

// DefaultLabelCap is the default number of distinct values a capped label (route, gRPC method,
// server address) may take before further values collapse into catalog.OtherValue.
const DefaultLabelCap = 1000

// Config is the resolved set of options.
type Config struct {
	Registerer      prometheus.Registerer
	DurationBuckets []float64
	BodySizes       bool
	SizeBuckets     []float64
	ServeMux        *http.ServeMux
	RouteFunc       func(*http.Request) string
	LabelCap        int
	Skip            func(*http.Request) bool
	SkipPaths       map[string]struct{}
	MethodFilter    func(fullMethod string) bool
	Logger          *slog.Logger
	// NativeHistograms adds native buckets (schema recorder.NativeSchema) to every histogram.
	NativeHistograms bool
	// TracerProvider and Propagator are the tracing options; Tracer is built from them by
	// NewConfig, nil when tracing is off.
	TracerProvider trace.TracerProvider
	Propagator     propagation.TextMapPropagator
	Tracer         *tracing.Tracer

	sizeBucketsSet bool
	errs           []error
}

// Option configures the middleware and the interceptors. Only this module makes options.
type Option interface{ apply(*Config) }

type optionFunc func(*Config)

func (f optionFunc) apply(c *Config) { f(c) }

// NewConfig applies opts over the defaults and validates the result; the error names every
// invalid option.
func NewConfig(opts []Option) (*Config, error) {
	c := &Config{
		Registerer:      prometheus.DefaultRegisterer,
		DurationBuckets: catalog.DefaultDurationBuckets(),
		SizeBuckets:     catalog.DefaultSizeBuckets(),
		LabelCap:        DefaultLabelCap,
	}
	for i, o := range opts {
		if o == nil {
			c.errs = append(c.errs, fmt.Errorf("option %d is nil", i))
			continue
		}
		o.apply(c)
	}
	if c.Registerer == nil {
		c.errs = append(c.errs, errors.New("WithRegisterer: registerer is nil"))
	}
	if err := checkBuckets(c.DurationBuckets); err != nil {
		c.errs = append(c.errs, fmt.Errorf("WithDurationBuckets: %w", err))
	}
	if err := checkBuckets(c.SizeBuckets); err != nil {
		c.errs = append(c.errs, fmt.Errorf("WithSizeBuckets: %w", err))
	}
	if c.sizeBucketsSet && !c.BodySizes {
		c.errs = append(c.errs, errors.New("WithSizeBuckets: body-size histograms are off; add WithBodySizes()"))
	}
	if c.LabelCap < 1 {
		c.errs = append(c.errs, fmt.Errorf("WithLabelCap: cap %d must be at least 1", c.LabelCap))
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Propagator != nil && c.TracerProvider == nil {
		c.errs = append(c.errs, errors.New("WithPropagator: tracing is off; add WithTracerProvider"))
	}
	c.Tracer = tracing.New(c.TracerProvider, c.Propagator)
	if err := errors.Join(c.errs...); err != nil {
		return nil, fmt.Errorf("invalid middleware options: %w", err)
	}
	return c, nil
}

func checkBuckets(b []float64) error {
	if len(b) == 0 {
		return errors.New("need at least one bucket bound")
	}
	for i, x := range b {
		if !(x > 0) || x > 1e15 {
			return fmt.Errorf("bound %v at index %d must be positive and finite", x, i)
		}
		if i > 0 && x <= b[i-1] {
			return fmt.Errorf("bound %v at index %d must be greater than the bound %v before it", x, i, b[i-1])
		}
	}
	return nil
}

// WithRegisterer sets where the metrics are registered.
func WithRegisterer(r prometheus.Registerer) Option {
	return optionFunc(func(c *Config) { c.Registerer = r })
}

// WithDurationBuckets sets the duration histograms' upper bounds, in seconds.
func WithDurationBuckets(bounds ...float64) Option {
	b := append([]float64(nil), bounds...)
	return optionFunc(func(c *Config) { c.DurationBuckets = b })
}

// WithBodySizes turns on the body-size histograms.
func WithBodySizes() Option { return optionFunc(func(c *Config) { c.BodySizes = true }) }

// WithSizeBuckets sets the body-size histograms' upper bounds, in bytes.
func WithSizeBuckets(bounds ...float64) Option {
	b := append([]float64(nil), bounds...)
	return optionFunc(func(c *Config) { c.SizeBuckets = b; c.sizeBucketsSet = true })
}

// WithServeMux names the mux to ask for the route when the request's Pattern is empty.
func WithServeMux(mux *http.ServeMux) Option {
	return optionFunc(func(c *Config) {
		if mux == nil {
			c.errs = append(c.errs, errors.New("WithServeMux: mux is nil"))
		}
		c.ServeMux = mux
	})
}

// WithRouteFunc sets a function returning the route template of a served request.
func WithRouteFunc(f func(*http.Request) string) Option {
	return optionFunc(func(c *Config) {
		if f == nil {
			c.errs = append(c.errs, errors.New("WithRouteFunc: function is nil"))
		}
		c.RouteFunc = f
	})
}

// WithLabelCap bounds the distinct values of capped labels.
func WithLabelCap(n int) Option { return optionFunc(func(c *Config) { c.LabelCap = n }) }

// WithSkip sets a predicate for requests that are not recorded at all.
func WithSkip(f func(*http.Request) bool) Option {
	return optionFunc(func(c *Config) {
		if f == nil {
			c.errs = append(c.errs, errors.New("WithSkip: function is nil"))
		}
		c.Skip = f
	})
}

// WithSkipPaths skips requests whose URL path is exactly one of paths.
func WithSkipPaths(paths ...string) Option {
	return optionFunc(func(c *Config) {
		if c.SkipPaths == nil {
			c.SkipPaths = make(map[string]struct{}, len(paths))
		}
		for _, p := range paths {
			c.SkipPaths[p] = struct{}{}
		}
	})
}

// WithMethodFilter sets a predicate on gRPC full method names; calls for which it returns false
// are not recorded.
func WithMethodFilter(f func(fullMethod string) bool) Option {
	return optionFunc(func(c *Config) {
		if f == nil {
			c.errs = append(c.errs, errors.New("WithMethodFilter: function is nil"))
		}
		c.MethodFilter = f
	})
}

// WithLogger sets the logger for rate-limited warnings (a collapsed label value, for example).
func WithLogger(l *slog.Logger) Option { return optionFunc(func(c *Config) { c.Logger = l }) }

// Skipped reports whether r is excluded from recording.
func (c *Config) Skipped(r *http.Request) bool {
	if c.SkipPaths != nil {
		if _, ok := c.SkipPaths[r.URL.Path]; ok {
			return true
		}
	}
	return c.Skip != nil && c.Skip(r)
}

// WithNativeHistograms adds native-histogram buckets to every histogram.
func WithNativeHistograms() Option { return optionFunc(func(c *Config) { c.NativeHistograms = true }) }

// WithTracerProvider turns tracing on with tp.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return optionFunc(func(c *Config) {
		if tp == nil {
			c.errs = append(c.errs, errors.New("WithTracerProvider: provider is nil"))
		}
		c.TracerProvider = tp
	})
}

// WithPropagator sets the propagator of trace context and baggage.
func WithPropagator(p propagation.TextMapPropagator) Option {
	return optionFunc(func(c *Config) {
		if p == nil {
			c.errs = append(c.errs, errors.New("WithPropagator: propagator is nil"))
		}
		c.Propagator = p
	})
}
