package perfobs

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"go.opentelemetry.io/otel/trace"

	"github.com/perfobs/perfobs-go/alerts"
	"github.com/perfobs/perfobs-go/middleware"
	"github.com/perfobs/perfobs-go/perfobs/internal/otlpenv"
)

// Config configures Start. The zero Config works: it names the service from the environment
// (or the executable) and turns on metrics; profiling and tracing start only when configured.
// Fields set here win over the environment.
type Config struct {
	// Service is the service name (target_info's service_name, Pyroscope's application name).
	// Empty: OTEL_SERVICE_NAME, then service.name in OTEL_RESOURCE_ATTRIBUTES, then
	// "unknown_service:" and the executable's name, as OpenTelemetry does.
	Service string
	// Version is the service version. Empty: service.version in OTEL_RESOURCE_ATTRIBUTES.
	Version string
	// Environment is the deployment environment ("prod", "staging"). Empty:
	// deployment.environment.name (or the older deployment.environment) in OTEL_RESOURCE_ATTRIBUTES.
	Environment string

	// Logger receives the SDK's rate-limited warnings and errors. Nil: slog.Default().
	Logger *slog.Logger
	// LookupEnv reads environment variables. Nil: os.LookupEnv. Tests inject their own.
	LookupEnv func(key string) (string, bool)

	// Middleware are extra options for HTTP, Transport and MiddlewareOptions (buckets, route
	// functions, skipped paths...); each is ignored where it does not apply. The registerer and
	// logger are the Observer's.
	Middleware []middleware.Option
	// DisableRuntimeMetrics leaves out the Go runtime, process and target_info collectors.
	DisableRuntimeMetrics bool

	// Profiling configures continuous profiling to Pyroscope: see ProfilingConfig.
	Profiling ProfilingConfig

	// TracerProvider turns tracing on with a provider the caller owns (and shuts down). Nil: the
	// Observer builds one when Tracing or the OTEL_* variables ask for it; see TracingConfig.
	// When profiling runs too, root spans label their CPU samples with span_id and span_name and
	// carry the pyroscope.profile.id attribute, so a trace links to its profile.
	TracerProvider trace.TracerProvider
	// Tracing configures the tracing the Observer builds from the OTEL_* variables, and the
	// propagator.
	Tracing TracingConfig
	// OTLPMetrics configures pushing the metrics over OTLP: see OTLPMetricsConfig.
	OTLPMetrics OTLPMetricsConfig
	// FlightRecorder keeps the last seconds of execution trace and snapshots it when a request
	// breaks its latency budget: see FlightRecorderConfig. Zero Budget: off.
	FlightRecorder FlightRecorderConfig

	// SLOs, when set, add an SLO panel to DebugHandler's status page: per objective, the error
	// budget left since start and the burn rate over the last minute, 10 minutes and hour. Load
	// the model from a spec with alerts.Load (or alerts.DefaultModel).
	SLOs *alerts.Model
}

// resolved is a Config with the environment and defaults applied.
type resolved struct {
	Config
	resource map[string]string // parsed OTEL_RESOURCE_ATTRIBUTES
}

func resolve(cfg Config) (*resolved, error) {
	r := &resolved{Config: cfg}
	if r.LookupEnv == nil {
		r.LookupEnv = os.LookupEnv
	}
	if r.Logger == nil {
		r.Logger = slog.Default()
	}
	for i, o := range cfg.Middleware {
		if o == nil {
			return nil, fmt.Errorf("Config.Middleware[%d]: option is nil", i)
		}
	}
	if v, ok := r.LookupEnv(otlpenv.EnvOTelResourceAttributes); ok {
		attrs, err := otlpenv.ParseKeyValues(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", otlpenv.EnvOTelResourceAttributes, err)
		}
		r.resource = attrs
	}
	if r.Service == "" {
		if v, ok := r.LookupEnv(otlpenv.EnvOTelServiceName); ok && strings.TrimSpace(v) != "" {
			r.Service = strings.TrimSpace(v)
		} else if v := r.resource["service.name"]; v != "" {
			r.Service = v
		} else {
			exe, _ := os.Executable()
			r.Service = "unknown_service:" + filepath.Base(exe)
		}
	}
	if r.Version == "" {
		r.Version = r.resource["service.version"]
	}
	if r.Environment == "" {
		r.Environment = r.resource["deployment.environment.name"]
		if r.Environment == "" {
			r.Environment = r.resource["deployment.environment"]
		}
	}
	return r, nil
}
