// Package tracing is the OpenTelemetry side of the HTTP middleware and the gRPC interceptors:
// it starts server spans from propagated headers and client spans that propagate, ends them with
// the status the semantic conventions ask for, and hands out the ids a sampled span attaches to
// its duration observation as an exemplar. It also ties root spans to profiles (ProfileLinker).
//
// It never links gRPC: a carrier for gRPC metadata is MultiMapCarrier over the metadata map.
// With no TracerProvider there is no *Tracer at all (New returns nil), so tracing costs nothing
// on the paths that check for nil.
package tracing
