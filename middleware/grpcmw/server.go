package grpcmw

import (
	"context"
	"time"

	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/internal/tracing"
	"github.com/perfobs/perfobs-go/middleware"
)

// UnaryServerInterceptor returns an interceptor that records each unary call in
// rpc_server_call_duration_seconds, from the moment the interceptor is entered (the request is
// already decoded) until the handler returns. The status is the handler's error as the client
// will see it: status.FromError (wrapped status errors included), CANCELLED or DEADLINE_EXCEEDED
// for context errors, else UNKNOWN. A panicking handler is recorded as INTERNAL with error_type
// "panic", and the panic goes on unrecovered. It panics only on invalid options, at
// construction, never per call.
//
// With middleware.WithTracerProvider, each call also gets a server span that continues the trace
// of the incoming metadata, and the handler's context carries the span and the caller's baggage.
func UnaryServerInterceptor(opts ...middleware.Option) grpc.UnaryServerInterceptor {
	return recorderFor("UnaryServerInterceptor", opts).unaryServer()
}

// StreamServerInterceptor returns an interceptor that records each streaming call in
// rpc_server_call_duration_seconds, from the moment the interceptor is entered until the handler
// returns: the whole stream, whatever number of messages it carries. Without tracing the stream
// is not wrapped, so messages cost nothing extra. Status and panics are handled as by
// UnaryServerInterceptor. A call that reached the server's UnknownServiceHandler is recorded with
// rpc_method "_OTHER", whatever method the client named. It panics only on invalid options.
func StreamServerInterceptor(opts ...middleware.Option) grpc.StreamServerInterceptor {
	return recorderFor("StreamServerInterceptor", opts).streamServer()
}

func (r *Recorder) unaryServer() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		if !r.recorded(info.FullMethod) {
			return handler(ctx, req)
		}
		// Unary handlers exist only for registered methods (an UnknownServiceHandler is a stream
		// handler), so the method is bounded by the server's services.
		method := methodLabel(info.FullMethod)
		typ := r.typ(unary)
		start := r.clock()
		var span trace.Span
		if r.cfg.Tracer != nil {
			ctx, span = r.startServerSpan(ctx, info.FullMethod, false)
		}
		var task flightTask
		if r.cfg.FlightRecorder != nil {
			ctx, task = startTask(ctx, method, span)
		}
		returned := false
		defer func() {
			if !returned {
				r.serverDone(span, task, method, typ, start, codes.Internal, nil, true)
			}
		}()
		resp, err = handler(ctx, req)
		returned = true
		r.serverDone(span, task, method, typ, start, codeOf(err), err, false)
		return resp, err
	}
}

// streamServer is StreamServerInterceptor's interceptor. gRPC gives it no service
// implementation (srv is nil) for calls to an UnknownServiceHandler, and only for those.
func (r *Recorder) streamServer() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if !r.recorded(info.FullMethod) {
			return handler(srv, ss)
		}
		method := methodLabel(info.FullMethod)
		typ := r.typ(streamType(info.IsClientStream, info.IsServerStream))
		if srv == nil {
			method = catalog.OtherValue
			markUnknown(ss.Context())
		}
		start := r.clock()
		var span trace.Span
		if r.cfg.Tracer != nil {
			var ctx context.Context
			ctx, span = r.startServerSpan(ss.Context(), info.FullMethod, srv == nil)
			ss = &tracedServerStream{ServerStream: ss, ctx: ctx}
		}
		var task flightTask
		if r.cfg.FlightRecorder != nil {
			ss, task = startStreamTask(ss, method, span)
		}
		returned := false
		defer func() {
			if !returned {
				r.serverDone(span, task, method, typ, start, codes.Internal, nil, true)
			}
		}()
		err := handler(srv, ss)
		returned = true
		r.serverDone(span, task, method, typ, start, codeOf(err), err, false)
		return err
	}
}

// tracedServerStream hands the handler a context with the server span.
type tracedServerStream struct {
	grpc.ServerStream
	ctx context.Context
}

// Context returns the stream's context with the server span and the caller's baggage.
func (s *tracedServerStream) Context() context.Context { return s.ctx }

// startServerSpan starts the server span of a call to fullMethod, continuing the trace of the
// incoming metadata. A call to an UnknownServiceHandler (unknown) names a method the server does
// not have: its span is named "grpc", with rpc.method "_OTHER" and the name the client sent in
// rpc.method_original, so that callers cannot create span names at will.
func (r *Recorder) startServerSpan(ctx context.Context, fullMethod string, unknown bool) (context.Context, trace.Span) {
	carrier := &incomingCarrier{ctx: ctx}
	if unknown {
		return r.cfg.Tracer.StartServer(ctx, carrier, catalog.RPCSystemGRPC, semconv.RPCSystemNameGRPC,
			semconv.RPCMethodKey.String(catalog.OtherValue), semconv.RPCMethodOriginal(methodLabel(fullMethod)))
	}
	name := methodLabel(fullMethod)
	return r.cfg.Tracer.StartServer(ctx, carrier, name, semconv.RPCSystemNameGRPC, semconv.RPCMethod(name))
}

// incomingCarrier is a propagation.TextMapCarrier over a call's incoming metadata that reads the
// keys the propagator asks for (traceparent, tracestate, baggage) one at a time, where
// metadata.FromIncomingContext would copy every key and value of the call.
type incomingCarrier struct{ ctx context.Context }

// Get returns the first value of key.
func (c *incomingCarrier) Get(key string) string {
	if v := metadata.ValueFromIncomingContext(c.ctx, key); len(v) > 0 {
		return v[0]
	}
	return ""
}

// Set does nothing: incoming metadata is read only.
func (c *incomingCarrier) Set(string, string) {}

// Keys lists the metadata keys.
func (c *incomingCarrier) Keys() []string {
	md, _ := metadata.FromIncomingContext(c.ctx)
	return tracing.MultiMapCarrier(md).Keys()
}

// serverDone ends the call's span, when there is one, and records the call: a panic fails the
// span with error.type "panic"; a status that means a server fault fails it with the status name.
func (r *Recorder) serverDone(span trace.Span, task flightTask, method string, typ callType, start time.Duration, code codes.Code, err error, panicked bool) {
	end := r.clock()
	if task != nil {
		r.flightDone(task, span, method, end-start)
	}
	kind := errNone
	switch {
	case panicked:
		kind = errPanic
	case serverError(codeIndex(code)):
		kind = errCode
	}
	if span != nil {
		if panicked {
			tracing.Fail(span, catalog.ErrorPanic, "handler panicked", nil)
		}
		tracing.EndRPC(span, CodeName(code), kind == errCode, err)
	}
	tok := r.shards.Get()
	r.server.record(method, typ, code, kind, tok.Shard, int64(end-start), span, r.epoch, end)
	r.shards.Put(tok)
}
