package otlpenv

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// NewHTTPClient returns an HTTP client of the SDK's own for an OTLP exporter, so that shutdown
// can close its idle connections (the exporters' Shutdown drops their client without closing
// them).
func NewHTTPClient() (*http.Client, *http.Transport) {
	dialer := &net.Dialer{Timeout: ExportTimeout, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   ExportTimeout,
		MaxIdleConns:          10,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{Transport: tr, Timeout: ExportTimeout}, tr
}

// NewTraceExporter builds the span exporter for t, bounded by ExportTimeout, retries included.
// The transport is the http/protobuf exporter's (nil for grpc): close its idle connections
// after shutdown.
func NewTraceExporter(ctx context.Context, t Target) (sdktrace.SpanExporter, *http.Transport, error) {
	var exp sdktrace.SpanExporter
	var transport *http.Transport
	var err error
	switch t.Protocol {
	case ProtocolGRPC:
		opts := []otlptracegrpc.Option{otlptracegrpc.WithEndpointURL(t.URL),
			otlptracegrpc.WithTimeout(ExportTimeout),
			otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: true,
				InitialInterval: RetryInitial, MaxInterval: RetryMax, MaxElapsedTime: ExportTimeout})}
		if len(t.Headers) > 0 {
			opts = append(opts, otlptracegrpc.WithHeaders(t.Headers))
		}
		exp, err = otlptracegrpc.New(ctx, opts...)
	default:
		var client *http.Client
		client, transport = NewHTTPClient()
		opts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(t.URL),
			otlptracehttp.WithHTTPClient(client), otlptracehttp.WithTimeout(ExportTimeout),
			otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: true,
				InitialInterval: RetryInitial, MaxInterval: RetryMax, MaxElapsedTime: ExportTimeout})}
		if len(t.Headers) > 0 {
			opts = append(opts, otlptracehttp.WithHeaders(t.Headers))
		}
		exp, err = otlptracehttp.New(ctx, opts...)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("OTLP trace exporter for %s: %w", t.URL, err)
	}
	return exp, transport, nil
}

// NewMetricExporter builds the metric exporter for t, as NewTraceExporter does for spans.
func NewMetricExporter(ctx context.Context, t Target) (sdkmetric.Exporter, *http.Transport, error) {
	var exp sdkmetric.Exporter
	var transport *http.Transport
	var err error
	switch t.Protocol {
	case ProtocolGRPC:
		opts := []otlpmetricgrpc.Option{otlpmetricgrpc.WithEndpointURL(t.URL),
			otlpmetricgrpc.WithTimeout(ExportTimeout),
			otlpmetricgrpc.WithRetry(otlpmetricgrpc.RetryConfig{Enabled: true,
				InitialInterval: RetryInitial, MaxInterval: RetryMax, MaxElapsedTime: ExportTimeout})}
		if len(t.Headers) > 0 {
			opts = append(opts, otlpmetricgrpc.WithHeaders(t.Headers))
		}
		exp, err = otlpmetricgrpc.New(ctx, opts...)
	default:
		var client *http.Client
		client, transport = NewHTTPClient()
		opts := []otlpmetrichttp.Option{otlpmetrichttp.WithEndpointURL(t.URL),
			otlpmetrichttp.WithHTTPClient(client), otlpmetrichttp.WithTimeout(ExportTimeout),
			otlpmetrichttp.WithRetry(otlpmetrichttp.RetryConfig{Enabled: true,
				InitialInterval: RetryInitial, MaxInterval: RetryMax, MaxElapsedTime: ExportTimeout})}
		if len(t.Headers) > 0 {
			opts = append(opts, otlpmetrichttp.WithHeaders(t.Headers))
		}
		exp, err = otlpmetrichttp.New(ctx, opts...)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("OTLP metric exporter for %s: %w", t.URL, err)
	}
	return exp, transport, nil
}
