// Package testkit is the root of this project's shared test helpers, a module of its own so that
// the SDK module never carries gRPC or the OpenTelemetry SDK. Only this project's tests import it
// (its path is under internal/): grpctest is the one gRPC test server, oteltest the one in-memory
// OpenTelemetry setup; the Prometheus fixture is the root module's internal/promtest.
package testkit
