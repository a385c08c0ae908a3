package perfobs

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	promb "go.opentelemetry.io/contrib/bridges/prometheus"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
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
	if cfg.Disabled || envTrue(lookup, EnvOTelSDKDisabled) {
		return nil, nil
	}
	exporter, _ := lookupNonEmpty(lookup, EnvOTelMetricsExporter)
	switch exporter {
	case "", "otlp", "prometheus":
	case "none":
		return nil, nil
	default:
		return nil, fmt.Errorf("%s %q: only otlp, prometheus (the scrape endpoint, always served) and none are supported", EnvOTelMetricsExporter, exporter)
	}
	if cfg.Endpoint == "" && exporter != "otlp" && !envSet(lookup, EnvOTLPMetricsEndpoint) {
		return nil, nil
	}
	target, err := resolveOTLP(otlpSignal{name: "OTLPMetrics", env: "METRICS", path: "/v1/metrics"}, cfg.Endpoint, cfg.Protocol, lookup)
	if err != nil {
		return nil, err
	}
	interval := cfg.Interval
	switch {
	case interval < 0:
		return nil, fmt.Errorf("OTLPMetrics.Interval %v: must not be negative", interval)
	case interval == 0:
		interval = defaultMetricExportInterval
		if v, ok := lookupNonEmpty(lookup, EnvOTelMetricExportInterval); ok {
			ms, err := strconv.Atoi(v)
			if err != nil || ms <= 0 {
				return nil, fmt.Errorf("%s %q: want a positive number of milliseconds", EnvOTelMetricExportInterval, v)
			}
			interval = time.Duration(ms) * time.Millisecond
		}
	}
	var exp sdkmetric.Exporter
	var transport *http.Transport
	switch target.protocol {
	case protocolGRPC:
		opts := []otlpmetricgrpc.Option{otlpmetricgrpc.WithEndpointURL(target.url),
			otlpmetricgrpc.WithTimeout(otlpExportTimeout),
			otlpmetricgrpc.WithRetry(otlpmetricgrpc.RetryConfig{Enabled: true,
				InitialInterval: otlpRetryInitial, MaxInterval: otlpRetryMax, MaxElapsedTime: otlpExportTimeout})}
		if len(target.headers) > 0 {
			opts = append(opts, otlpmetricgrpc.WithHeaders(target.headers))
		}
		exp, err = otlpmetricgrpc.New(ctx, opts...)
	default:
		var client *http.Client
		client, transport = newOTLPHTTPClient()
		opts := []otlpmetrichttp.Option{otlpmetrichttp.WithEndpointURL(target.url),
			otlpmetrichttp.WithHTTPClient(client), otlpmetrichttp.WithTimeout(otlpExportTimeout),
			otlpmetrichttp.WithRetry(otlpmetrichttp.RetryConfig{Enabled: true,
				InitialInterval: otlpRetryInitial, MaxInterval: otlpRetryMax, MaxElapsedTime: otlpExportTimeout})}
		if len(target.headers) > 0 {
			opts = append(opts, otlpmetrichttp.WithHeaders(target.headers))
		}
		exp, err = otlpmetrichttp.New(ctx, opts...)
	}
	if err != nil {
		return nil, fmt.Errorf("OTLP metric exporter for %s: %w", target.url, err)
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
