package grpcmw

import (
	"context"
	"io"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"

	"github.com/perfobs/perfobs-go/internal/tracing"
	"github.com/perfobs/perfobs-go/middleware"
)

// UnaryClientInterceptor returns an interceptor that records each unary call in
// rpc_client_call_duration_seconds, from the call until the invoker returns, with the status the
// call returned. Every status but OK sets error_type. It panics only on invalid options.
//
// With middleware.WithTracerProvider, each call also gets a client span, child of the span in ctx,
// whose context and the ctx's baggage go to the server in the outgoing metadata.
func UnaryClientInterceptor(opts ...middleware.Option) grpc.UnaryClientInterceptor {
	return recorderFor("UnaryClientInterceptor", opts).unaryClient()
}

func (r *Recorder) unaryClient() grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if !r.recorded(method) {
			return invoker(ctx, method, req, reply, cc, opts...)
		}
		start := r.clock()
		var span trace.Span
		if r.cfg.Tracer != nil {
			ctx, span = r.startClientSpan(ctx, method)
		}
		err := invoker(ctx, method, req, reply, cc, opts...)
		r.clientDone(span, methodLabel(method), r.typ(unary), start, codeOf(err), err)
		return err
	}
}

// startClientSpan starts the client span of a call to fullMethod and returns ctx with the span
// and with outgoing metadata that carries its context: ctx's outgoing metadata (of which
// metadata.FromOutgoingContext returns a copy: the caller's is never changed) with the
// propagator's fields set.
func (r *Recorder) startClientSpan(ctx context.Context, fullMethod string) (context.Context, trace.Span) {
	md, ok := metadata.FromOutgoingContext(ctx)
	if !ok {
		md = make(metadata.MD, 2) // traceparent, and baggage when there is some
	}
	ctx, span := r.cfg.Tracer.StartRPCClient(ctx, md, fullMethod)
	return metadata.NewOutgoingContext(ctx, md), span
}

// StreamClientInterceptor returns an interceptor that records each streaming call once in
// rpc_client_call_duration_seconds, from the call until the stream's first terminal event:
//
//   - RecvMsg returns io.EOF (status OK) or another error (its status);
//   - RecvMsg returns a message on a stream whose server sends only one (client streaming);
//   - SendMsg returns an error other than io.EOF (its status);
//   - the call's context is cancelled or its deadline passes (CANCELLED or DEADLINE_EXCEEDED),
//     observed with context.AfterFunc, so a stream abandoned by cancelling its context is
//     recorded even when nobody reads it again; no goroutine waits meanwhile.
//
// Later events of the same stream change nothing: a stream is never counted twice. A stream whose
// context is never cancelled and which is never read to its end is not observable by anyone
// (gRPC itself keeps it open), so it is not recorded; gRPC's documentation requires callers to do
// one or the other. Messages cost no allocation; the wrapper and the context registration cost a
// few allocations per stream.
//
// With middleware.WithTracerProvider, each stream also gets a client span, propagated as by
// UnaryClientInterceptor and ended at the same terminal event. It panics only on invalid options.
func StreamClientInterceptor(opts ...middleware.Option) grpc.StreamClientInterceptor {
	return recorderFor("StreamClientInterceptor", opts).streamClient()
}

func (r *Recorder) streamClient() grpc.StreamClientInterceptor {
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		if !r.recorded(method) {
			return streamer(ctx, desc, cc, method, opts...)
		}
		start := r.clock()
		var span trace.Span
		if r.cfg.Tracer != nil {
			ctx, span = r.startClientSpan(ctx, method)
		}
		cs, err := streamer(ctx, desc, cc, method, opts...)
		if err != nil {
			r.clientDone(span, methodLabel(method), r.typ(streamType(desc.ClientStreams, desc.ServerStreams)), start, codeOf(err), err)
			return cs, err
		}
		w := &clientStream{ClientStream: cs, rec: r, method: methodLabel(method), typ: r.typ(streamType(desc.ClientStreams, desc.ServerStreams)), start: start,
			oneResponse: !desc.ServerStreams, span: span}
		if ctx.Done() != nil {
			// The callback does not touch w.stop, which is set after AfterFunc returns.
			w.stop = context.AfterFunc(ctx, func() { w.record(codeOf(ctx.Err()), ctx.Err()) })
		}
		return w, nil
	}
}

// clientStream records its stream at the first terminal event.
type clientStream struct {
	grpc.ClientStream
	rec         *Recorder
	method      string
	typ         callType      // classic mode's grpc_type
	start       time.Duration // Recorder.clock at the call
	oneResponse bool          // the server sends one message: a successful RecvMsg ends the stream
	stop        func() bool   // deregisters the context callback; nil without one
	span        trace.Span    // the client span; nil without tracing
	done        atomic.Bool
}

// SendMsg sends m; an error other than io.EOF ends the stream with its status (io.EOF means the
// status is for RecvMsg to report).
func (s *clientStream) SendMsg(m any) error {
	err := s.ClientStream.SendMsg(m)
	if err != nil && err != io.EOF {
		s.finish(codeOf(err), err)
	}
	return err
}

// RecvMsg receives into m; io.EOF ends the stream with OK, another error with its status.
func (s *clientStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	switch {
	case err == io.EOF:
		s.finish(codes.OK, nil)
	case err != nil:
		s.finish(codeOf(err), err)
	case s.oneResponse:
		s.finish(codes.OK, nil)
	}
	return err
}

// finish records the stream, unless it was already recorded, and deregisters the context
// callback. Only the goroutines using the stream call it.
func (s *clientStream) finish(code codes.Code, err error) {
	if s.record(code, err) && s.stop != nil {
		s.stop()
	}
}

// record records the stream (and ends its span) the first time it is called and reports whether
// it did.
func (s *clientStream) record(code codes.Code, err error) bool {
	if s.done.Load() || !s.done.CompareAndSwap(false, true) {
		return false
	}
	s.rec.clientDone(s.span, s.method, s.typ, s.start, code, err)
	return true
}

// clientDone ends the call's span, when there is one, failed unless code is OK, and records the
// call.
func (r *Recorder) clientDone(span trace.Span, method string, typ callType, start time.Duration, code codes.Code, err error) {
	end := r.clock()
	kind := errNone
	if code != codes.OK {
		kind = errCode
	}
	if span != nil {
		tracing.EndRPC(span, CodeName(code), kind == errCode, err)
	}
	tok := r.shards.Get()
	r.client.record(method, typ, code, kind, tok.Shard, int64(end-start), span, r.epoch, end)
	r.shards.Put(tok)
}
