// Package status is the in-process status page behind perfobs.Observer.DebugHandler: RED per
// HTTP route and gRPC method over the last minute, 10 minutes, hour and since start, latency
// histograms with exemplar trace ids, the Go runtime, profiling, SLO budgets and the
// flight-recorder snapshots, as HTML and as JSON.
//
// It reads the Observer's registry, the same histograms /metrics serves; it records nothing of
// its own. The windows come from a ring of registry snapshots that a sampler takes every ten
// seconds, and the sampler runs only while someone looks: it starts with the first request to
// the page or the API and stops after an hour without one. Nothing here runs on the request
// path of the service.
package status
