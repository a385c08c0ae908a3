package perfobs

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	promb "go.opentelemetry.io/contrib/bridges/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/perfobs/perfobs-go/perfobs/internal/otlpenv"
)

// defaultMetricExportInterval is OpenTelemetry's default OTEL_METRIC_EXPORT_INTERVAL.
const defaultMetricExportInterval = time.Minute

// OTLPMetricsConfig configures pushing the Observer's metrics over OTLP, for services that are not
// scraped. It is on when Endpoint, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT or OTEL_METRICS_EXPORTER=otlp
// ask for it; OTEL_EXPORTER_OTLP_ENDPOINT alone does not turn it on (it usually points tracing at
// a collector while Prometheus scrapes). The whole registry, the SDK's metrics and the service's
// own collectors alike, goes through the OpenTelemetry Prometheus bridge: classic histograms
// become explicit-bucket histograms, native ones exponential histograms. MetricsHandler keeps
// working beside it. Shutdown pushes once more, then stops.
type OTLPMetricsConfig struct {
	// Disabled turns the push off even when the variables ask for it.
	Disabled bool
	// Endpoint is the OTLP metrics endpoint URL, such as "http://collector:4318/v1/metrics".
	// Empty: OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT (with
	// /v1/metrics appended for http/protobuf) when OTEL_METRICS_EXPORTER=otlp, else the default
	// on localhost.
	Endpoint string
	// Protocol is "http/protobuf" or "grpc". Empty: OTEL_EXPORTER_OTLP_METRICS_PROTOCOL, else
	// OTEL_EXPORTER_OTLP_PROTOCOL, else http/protobuf.
	Protocol string
	// Interval is the time between pushes. Zero: OTEL_METRIC_EXPORT_INTERVAL (milliseconds), else
	// one minute.
	Interval time.Duration
}

// metricsPush is a running OTLP metrics push.
type metricsPush struct {
	mp        *sdkmetric.MeterProvider
	transport *http.Transport // the http/protobuf exporter's; nil for grpc
}

// startMetricsPush returns nil when the push is off.
func startMetricsPush(ctx context.Context, cfg OTLPMetricsConfig, g prometheus.Gatherer, rc *resolved) (*metricsPush, error) {
	lookup := rc.LookupEnv
	if cfg.Disabled || otlpenv.True(lookup, otlpenv.EnvOTelSDKDisabled) {
		return nil, nil
	}
	exporter, _ := otlpenv.LookupNonEmpty(lookup, otlpenv.EnvOTelMetricsExporter)
	switch exporter {
	case "", "otlp", "prometheus":
	case "none":
		return nil, nil
	default:
		return nil, fmt.Errorf("%s %q: only otlp, prometheus (the scrape endpoint, always served) and none are supported", otlpenv.EnvOTelMetricsExporter, exporter)
	}
	if cfg.Endpoint == "" && exporter != "otlp" && !otlpenv.Set(lookup, otlpenv.EnvOTLPMetricsEndpoint) {
		return nil, nil
	}
	target, err := otlpenv.Resolve(otlpenv.Signal{Name: "OTLPMetrics", Env: "METRICS", Path: "/v1/metrics"}, cfg.Endpoint, cfg.Protocol, lookup)
	if err != nil {
		return nil, err
	}
	interval := cfg.Interval
	switch {
	case interval < 0:
		return nil, fmt.Errorf("OTLPMetrics.Interval %v: must not be negative", interval)
	case interval == 0:
		interval = defaultMetricExportInterval
		if v, ok := otlpenv.LookupNonEmpty(lookup, otlpenv.EnvOTelMetricExportInterval); ok {
			ms, err := strconv.Atoi(v)
			if err != nil || ms <= 0 {
				return nil, fmt.Errorf("%s %q: want a positive number of milliseconds", otlpenv.EnvOTelMetricExportInterval, v)
			}
			interval = time.Duration(ms) * time.Millisecond
		}
	}
	exp, transport, err := otlpenv.NewMetricExporter(ctx, target)
	if err != nil {
		return nil, err
	}
	res, err := otelResource(ctx, rc)
	if err != nil {
		return nil, err
	}
	reader := sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(interval),
		sdkmetric.WithProducer(promb.NewMetricProducer(promb.WithGatherer(g))))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader), sdkmetric.WithResource(res))
	return &metricsPush{mp: mp, transport: transport}, nil
}

// shutdown pushes the registry once more and stops, within ctx, then closes the exporter's idle
// connections (its own Shutdown drops its client without closing them).
func (p *metricsPush) shutdown(ctx context.Context) error {
	if p == nil {
		return nil
	}
	err := p.mp.Shutdown(ctx)
	if p.transport != nil {
		p.transport.CloseIdleConnections()
	}
	return err
}
