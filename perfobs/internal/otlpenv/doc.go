// Package otlpenv is the facade's OpenTelemetry environment layer: the standard OTEL_* variables,
// their key=value lists, the OTLP endpoint, protocol and headers of each signal, the sampler
// OTEL_TRACES_SAMPLER names, and the OTLP exporters built from them with clients of the SDK's
// own. The perfobs package wires what this package builds; TracingConfig and OTLPMetricsConfig
// document the behaviour users see.
package otlpenv
