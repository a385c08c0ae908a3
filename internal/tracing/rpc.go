package tracing

import (
	"context"
	"strings"

	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// The gRPC side, for package grpcmw: it hands in incoming or outgoing metadata as a plain
// map[string][]string (metadata.MD is one), so this package never links gRPC.

// rpcName is the span name and rpc.method of a full method "/pkg.Service/Method".
func rpcName(fullMethod string) string { return strings.TrimPrefix(fullMethod, "/") }

// StartRPCServer starts the server span of a gRPC call, continuing the trace that the incoming
// metadata md carries (nil when there is none): named "pkg.Service/Method", with rpc.system.name
// "grpc" and rpc.method.
func (t *Tracer) StartRPCServer(ctx context.Context, md map[string][]string, fullMethod string) (context.Context, trace.Span) {
	name := rpcName(fullMethod)
	return t.StartServer(ctx, MultiMapCarrier(md), name, semconv.RPCSystemNameGRPC, semconv.RPCMethod(name))
}

// StartRPCClient starts the client span of a gRPC call and writes its context into md, which the
// caller then sends as outgoing metadata. md must not be nil: pass a copy of the outgoing
// metadata (metadata must not be changed in place) or a new one.
func (t *Tracer) StartRPCClient(ctx context.Context, md map[string][]string, fullMethod string) (context.Context, trace.Span) {
	name := rpcName(fullMethod)
	return t.StartClient(ctx, MultiMapCarrier(md), name, semconv.RPCSystemNameGRPC, semconv.RPCMethod(name))
}

// EndRPC sets rpc.response.status_code to code ("OK", "NOT_FOUND"...), marks the span failed
// with error.type code when failed (the caller decides: on servers only the codes that mean a
// server fault, on clients every code but OK), and ends it.
func EndRPC(span trace.Span, code string, failed bool, err error) {
	span.SetAttributes(semconv.RPCResponseStatusCode(code))
	if failed {
		Fail(span, code, code, err)
	}
	span.End()
}
