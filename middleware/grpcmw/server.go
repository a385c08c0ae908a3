package grpcmw

import (
	"context"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"github.com/perfobs/perfobs-go/internal/catalog"
	"github.com/perfobs/perfobs-go/middleware"
)

// UnaryServerInterceptor records every unary call in rpc_server_call_duration_seconds. It is the
// Must form of New(opts...).UnaryServerInterceptor(): it panics only when opts are invalid, at
// construction, never per call.
func UnaryServerInterceptor(opts ...middleware.Option) grpc.UnaryServerInterceptor {
	return mustNew("UnaryServerInterceptor", opts).UnaryServerInterceptor()
}

// StreamServerInterceptor records every streaming call in rpc_server_call_duration_seconds. It is
// the Must form of New(opts...).StreamServerInterceptor().
func StreamServerInterceptor(opts ...middleware.Option) grpc.StreamServerInterceptor {
	return mustNew("StreamServerInterceptor", opts).StreamServerInterceptor()
}

// UnaryServerInterceptor returns an interceptor that records each unary call from the moment the
// interceptor is entered (the request is already decoded) until the handler returns. The status is
// the handler's error as the client will see it: status.FromError (wrapped status errors
// included), CANCELLED or DEADLINE_EXCEEDED for context errors, else UNKNOWN. A panicking handler
// is recorded as INTERNAL with error_type "panic", and the panic goes on unrecovered.
func (r *Recorder) UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		if !r.recorded(info.FullMethod) {
			return handler(ctx, req)
		}
		// Unary handlers exist only for registered methods (an UnknownServiceHandler is a stream
		// handler), so the method is bounded by the server's services.
		method := methodLabel(info.FullMethod)
		start := r.clock()
		returned := false
		defer func() {
			if !returned {
				r.serverDone(method, start, codes.Internal, true)
			}
		}()
		resp, err = handler(ctx, req)
		returned = true
		r.serverDone(method, start, codeOf(err), false)
		return resp, err
	}
}

// StreamServerInterceptor returns an interceptor that records each streaming call from the
// moment the interceptor is entered until the handler returns: the whole stream, whatever number
// of messages it carries. The stream is not wrapped, so messages cost nothing extra. Status and
// panics are handled as by UnaryServerInterceptor.
//
// A call that reached the server's UnknownServiceHandler (grpc.UnknownServiceHandler) is recorded
// with rpc_method "_OTHER", whatever method the client named: gRPC gives the interceptor no
// service implementation (srv is nil) for those calls and only for those.
func (r *Recorder) StreamServerInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if !r.recorded(info.FullMethod) {
			return handler(srv, ss)
		}
		method := methodLabel(info.FullMethod)
		if srv == nil {
			method = catalog.OtherValue
			markUnknown(ss.Context())
		}
		start := r.clock()
		returned := false
		defer func() {
			if !returned {
				r.serverDone(method, start, codes.Internal, true)
			}
		}()
		err := handler(srv, ss)
		returned = true
		r.serverDone(method, start, codeOf(err), false)
		return err
	}
}

// serverDone records one finished server call.
func (r *Recorder) serverDone(method string, start time.Duration, code codes.Code, panicked bool) {
	elapsed := r.clock() - start
	kind := errNone
	switch {
	case panicked:
		kind = errPanic
	case serverError(codeIndex(code)):
		kind = errCode
	}
	tok := r.shards.Get()
	r.server.record(method, code, kind, tok.Shard, int64(elapsed))
	r.shards.Put(tok)
}
