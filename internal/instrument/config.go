// Package instrument resolves the options of package middleware into the Config that the HTTP
// middleware and the gRPC interceptors record with, and holds the helpers both use to register
// metrics and to bound label values. The options themselves, and their documentation, live in
// package middleware.
package instrument

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"strings"

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
	// BodySizes and SizeBuckets are the HTTP body-size histograms; MessageSizeBuckets the gRPC
	// message-size histograms.
	BodySizes          bool
	SizeBuckets        []float64
	MessageSizeBuckets []float64
	ServeMux           *http.ServeMux
	RouteFunc          func(*http.Request) string
	LabelCap           int
	Skip               func(*http.Request) bool
	SkipPaths          map[string]struct{}
	MethodFilter       func(fullMethod string) bool
	Logger             *slog.Logger
	// NativeHistograms adds native buckets (schema recorder.NativeSchema) to every histogram.
	NativeHistograms bool
	// Classic selects the promhttp and go-grpc-middleware metric names (catalog.Classic*).
	Classic bool
	// TracerProvider and Propagator are the tracing options; Tracer is built from them by
	// NewConfig, nil when tracing is off.
	TracerProvider trace.TracerProvider
	Propagator     propagation.TextMapPropagator
	Tracer         *tracing.Tracer
	// FlightRecorder takes execution-trace snapshots of slow requests (flightrecorder.go); nil: off.
	FlightRecorder FlightRecorder
}

// Scope is the set of constructors an option applies to.
type Scope uint8

const (
	HTTPServer Scope = 1 << iota // middleware.HTTP
	HTTPClient                   // middleware.Transport
	GRPC                         // package grpcmw

	HTTP = HTTPServer | HTTPClient // middleware.New: its Recorder serves both
	All  = HTTP | GRPC
)

// String names the constructors of a scope, for error messages.
func (s Scope) String() string {
	var parts []string
	if s&HTTPServer != 0 {
		parts = append(parts, "the HTTP middleware (middleware.HTTP)")
	}
	if s&HTTPClient != 0 {
		parts = append(parts, "the HTTP client (middleware.Transport)")
	}
	if s&GRPC != 0 {
		parts = append(parts, "the gRPC interceptors (package grpcmw)")
	}
	return strings.Join(parts, " and ")
}

// Option is what every option of package middleware carries: its name (for errors), where it
// applies, and how it sets the Config; or, for a Recorder passed as an option, the Config it
// resolved. Its fields are unexported, so that nothing outside this module reaches them through
// the types that embed it.
type Option struct {
	name     string
	scope    Scope
	apply    func(*Config)
	err      error // an invalid argument, reported by NewConfig as "name: err"
	resolved *Config
	lenient  bool // ignored, not refused, where it does not apply (Lenient)
}

// NewOption returns the option called name, which applies to scope and sets the Config with apply.
func NewOption(name string, scope Scope, apply func(*Config)) Option {
	return Option{name: name, scope: scope, apply: apply}
}

// Invalid returns the option called name whose argument is wrong: NewConfig reports err.
func Invalid(name string, scope Scope, err error) Option {
	return Option{name: name, scope: scope, err: err}
}

// Resolved returns the option that stands for cfg, already validated (a Recorder, called name).
func Resolved(name string, scope Scope, cfg *Config) Option {
	return Option{name: name, scope: scope, resolved: cfg}
}

// carried is how NewConfig reads an option: middleware's option types embed Option, which
// promotes this method, so no exported method shows in their documentation.
func (o Option) carried() Option { return o }

// Carrier is implemented by Option and the types that embed it: only this module can make them.
type Carrier interface{ carried() Option }

// ScopeOf reports where opt applies, and false when opt carries no Option (nil, for example).
func ScopeOf(opt any) (Scope, bool) {
	c, ok := opt.(Carrier)
	if !ok {
		return 0, false
	}
	return c.carried().scope, true
}

// Lenient returns opts marked so that a constructor they do not apply to ignores them instead of
// refusing them: the facade's options go to HTTP and gRPC alike. Invalid arguments are still
// errors everywhere.
func Lenient[O any](opts []O) []O {
	out := make([]O, 0, len(opts))
	for _, o := range opts {
		if c, ok := any(o).(Carrier); ok {
			opt := c.carried()
			opt.lenient = true
			if lo, ok := any(opt).(O); ok {
				out = append(out, lo)
				continue
			}
		}
		out = append(out, o)
	}
	return out
}

// NewConfig applies opts over the defaults for the constructor named target, of scope, and
// validates the result. The error names every invalid option, and every option that does not
// apply to target.
func NewConfig[O any](target string, scope Scope, opts []O) (*Config, error) {
	c := &Config{
		Registerer:         prometheus.DefaultRegisterer,
		DurationBuckets:    catalog.DefaultDurationBuckets(),
		SizeBuckets:        catalog.DefaultSizeBuckets(),
		MessageSizeBuckets: catalog.DefaultSizeBuckets(),
		LabelCap:           DefaultLabelCap,
	}
	var errs []error
	given := map[string]bool{}
	for i, o := range opts {
		carrier, ok := any(o).(Carrier)
		if v := reflect.ValueOf(o); ok && v.Kind() == reflect.Pointer && v.IsNil() {
			ok = false // a nil *Recorder
		}
		if !ok {
			errs = append(errs, fmt.Errorf("option %d is nil", i))
			continue
		}
		opt := carrier.carried()
		if opt.scope&scope == 0 {
			switch {
			case !opt.lenient:
				errs = append(errs, fmt.Errorf("%s applies to %s, not to %s", opt.name, opt.scope, target))
			case opt.err != nil:
				errs = append(errs, fmt.Errorf("%s: %w", opt.name, opt.err))
			}
			continue
		}
		if opt.resolved != nil {
			if len(opts) != 1 {
				errs = append(errs, fmt.Errorf("%s carries its options already: pass it alone", opt.name))
				continue
			}
			return opt.resolved, nil
		}
		if opt.err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", opt.name, opt.err))
			continue
		}
		given[opt.name] = true
		opt.apply(c)
	}
	if c.Registerer == nil {
		errs = append(errs, errors.New("WithRegisterer: registerer is nil"))
	}
	if err := checkBuckets(c.DurationBuckets); err != nil {
		errs = append(errs, fmt.Errorf("WithDurationBuckets: %w", err))
	}
	if err := checkBuckets(c.SizeBuckets); err != nil {
		errs = append(errs, fmt.Errorf("WithSizeBuckets: %w", err))
	}
	if err := checkBuckets(c.MessageSizeBuckets); err != nil {
		errs = append(errs, fmt.Errorf("WithMessageSizeBuckets: %w", err))
	}
	if c.Classic && !given["WithDurationBuckets"] {
		c.DurationBuckets = catalog.ClassicDurationBuckets()
	}
	if c.Classic && c.NativeHistograms {
		errs = append(errs, errors.New("WithClassicNames: promhttp's and go-grpc-middleware's series have no native histograms; drop WithNativeHistograms"))
	}
	if given["WithSizeBuckets"] && !c.BodySizes {
		errs = append(errs, errors.New("WithSizeBuckets: body-size histograms are off; add WithBodySizes()"))
	}
	if c.LabelCap < 1 {
		errs = append(errs, fmt.Errorf("WithLabelCap: cap %d must be at least 1", c.LabelCap))
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Propagator != nil && c.TracerProvider == nil {
		errs = append(errs, errors.New("WithPropagator: tracing is off; add WithTracerProvider"))
	}
	c.Tracer = tracing.New(c.TracerProvider, c.Propagator)
	if err := errors.Join(errs...); err != nil {
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

// Skipped reports whether r is excluded from recording.
func (c *Config) Skipped(r *http.Request) bool {
	if c.SkipPaths != nil {
		if _, ok := c.SkipPaths[r.URL.Path]; ok {
			return true
		}
	}
	return c.Skip != nil && c.Skip(r)
}
