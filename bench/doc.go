// Package bench holds side-by-side benchmarks of perfobs-go against the libraries service teams
// use today (promhttp, otelhttp, slok/go-http-metrics, go-grpc-middleware, otelgrpc), run in one
// process so their ratios are comparable. It is its own module, so the SDK's go.mod never depends
// on its peers.
package bench
