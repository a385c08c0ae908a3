package bench

import (
	"context"
	"io"
	"testing"
	"time"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"

	"github.com/perfobs/perfobs-go/middleware"
	"github.com/perfobs/perfobs-go/middleware/grpcmw"
)

// The instrumentation alone, without a transport. A round trip over bufconn costs tens of
// microseconds and, on a shared machine, varies by more than an interceptor costs; so
// BenchmarkGRPCOverhead calls each stack's server and client hooks directly, the way gRPC calls
// them, around handlers that do nothing. For stats handlers it replays the events gRPC sends
// for one call, allocated as gRPC allocates them when a stats handler is installed. "Bare" runs
// the handlers alone; a stack's overhead is its time minus Bare's.

const (
	unaryMethod  = "/grpc.testing.TestService/EmptyCall"
	streamMethod = "/grpc.testing.TestService/StreamingOutputCall"
)

var (
	unaryInfo  = &grpc.UnaryServerInfo{FullMethod: unaryMethod}
	streamInfo = &grpc.StreamServerInfo{FullMethod: streamMethod, IsServerStream: true}
	streamDesc = &grpc.StreamDesc{StreamName: "StreamingOutputCall", ServerStreams: true}
)

// nopServerStream is a grpc.ServerStream that discards what is sent.
type nopServerStream struct{ ctx context.Context }

func (*nopServerStream) SetHeader(metadata.MD) error  { return nil }
func (*nopServerStream) SendHeader(metadata.MD) error { return nil }
func (*nopServerStream) SetTrailer(metadata.MD)       {}
func (s *nopServerStream) Context() context.Context   { return s.ctx }
func (*nopServerStream) SendMsg(any) error            { return nil }
func (*nopServerStream) RecvMsg(any) error            { return nil }

// nopClientStream is a grpc.ClientStream that receives ten messages, then io.EOF.
type nopClientStream struct {
	ctx context.Context
	n   int
}

func (*nopClientStream) Header() (metadata.MD, error) { return nil, nil }
func (*nopClientStream) Trailer() metadata.MD         { return nil }
func (*nopClientStream) CloseSend() error             { return nil }
func (s *nopClientStream) Context() context.Context   { return s.ctx }
func (*nopClientStream) SendMsg(any) error            { return nil }
func (s *nopClientStream) RecvMsg(any) error {
	s.n++
	if s.n > 10 {
		return io.EOF
	}
	return nil
}

var msg struct{}

// interceptorCall runs one unary call and one ten-message server stream through a server and a
// client interceptor set (nil interceptors: the bare handlers).
type interceptorCall struct {
	su grpc.UnaryServerInterceptor
	cu grpc.UnaryClientInterceptor
	ss grpc.StreamServerInterceptor
	cs grpc.StreamClientInterceptor
}

func unaryHandler(context.Context, any) (any, error) { return &msg, nil }

func invoker(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error {
	return nil
}

func streamHandler(_ any, ss grpc.ServerStream) error {
	for range 10 {
		if err := ss.SendMsg(&msg); err != nil {
			return err
		}
	}
	return nil
}

func (c interceptorCall) unary(ctx context.Context) {
	if c.su == nil {
		_, _ = unaryHandler(ctx, &msg)
		_ = invoker(ctx, unaryMethod, &msg, &msg, nil)
		return
	}
	_, _ = c.su(ctx, &msg, unaryInfo, unaryHandler)
	_ = c.cu(ctx, unaryMethod, &msg, &msg, nil, invoker)
}

// streamer opens cs again.
func (cs *nopClientStream) streamer(context.Context, *grpc.StreamDesc, *grpc.ClientConn, string, ...grpc.CallOption) (grpc.ClientStream, error) {
	cs.n = 0
	return cs, nil
}

func (c interceptorCall) stream(ctx context.Context, ss *nopServerStream, cs *nopClientStream, streamer grpc.Streamer) {
	var client grpc.ClientStream
	if c.ss == nil {
		_ = streamHandler(struct{}{}, ss)
		client, _ = streamer(ctx, streamDesc, nil, streamMethod)
	} else {
		_ = c.ss(struct{}{}, ss, streamInfo, streamHandler)
		client, _ = c.cs(ctx, streamDesc, nil, streamMethod, streamer)
	}
	for client.RecvMsg(&msg) == nil {
	}
}

// replay sends h the events of one call, as gRPC does: the request and response message counts
// are in and out from the handler's side.
func replay(ctx context.Context, h stats.Handler, client bool, method string, in, out int) {
	ctx = h.TagRPC(ctx, &stats.RPCTagInfo{FullMethodName: method})
	begin := &stats.Begin{Client: client, BeginTime: time.Now(), IsServerStream: in > 1 || out > 1}
	if !client {
		h.HandleRPC(ctx, &stats.InHeader{FullMethod: method})
	}
	h.HandleRPC(ctx, begin)
	if client {
		h.HandleRPC(ctx, &stats.OutHeader{Client: true, FullMethod: method})
		for range out {
			h.HandleRPC(ctx, &stats.OutPayload{Client: true, Length: 16, SentTime: time.Now()})
		}
		h.HandleRPC(ctx, &stats.InHeader{Client: true})
		for range in {
			h.HandleRPC(ctx, &stats.InPayload{Client: true, Length: 16, RecvTime: time.Now()})
		}
		h.HandleRPC(ctx, &stats.InTrailer{Client: true})
	} else {
		for range in {
			h.HandleRPC(ctx, &stats.InPayload{Length: 16, RecvTime: time.Now()})
		}
		h.HandleRPC(ctx, &stats.OutHeader{})
		for range out {
			h.HandleRPC(ctx, &stats.OutPayload{Length: 16, SentTime: time.Now()})
		}
		h.HandleRPC(ctx, &stats.OutTrailer{})
	}
	h.HandleRPC(ctx, &stats.End{Client: client, BeginTime: begin.BeginTime, EndTime: time.Now()})
}

// overheadStack is one stack's hooks: interceptors, stats handlers, or both.
type overheadStack struct {
	name           string
	call           interceptorCall
	server, client stats.Handler
}

func (s overheadStack) unary(ctx context.Context) {
	s.call.unary(ctx)
	if s.server != nil {
		replay(ctx, s.server, false, unaryMethod, 1, 1)
		replay(ctx, s.client, true, unaryMethod, 1, 1)
	}
}

func (s overheadStack) stream(ctx context.Context, ss *nopServerStream, cs *nopClientStream, streamer grpc.Streamer) {
	s.call.stream(ctx, ss, cs, streamer)
	if s.server != nil {
		replay(ctx, s.server, false, streamMethod, 1, 10)
		replay(ctx, s.client, true, streamMethod, 10, 1)
	}
}

func overheadStacks(tb testing.TB) []overheadStack {
	tb.Helper()
	rec, err := grpcmw.New(middleware.WithRegisterer(prometheus.NewRegistry()))
	if err != nil {
		tb.Fatal(err)
	}
	perfobs := interceptorCall{grpcmw.UnaryServerInterceptor(rec), grpcmw.UnaryClientInterceptor(rec), grpcmw.StreamServerInterceptor(rec), grpcmw.StreamClientInterceptor(rec)}
	gpServer := grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram())
	gpClient := grpcprom.NewClientMetrics(grpcprom.WithClientHandlingTimeHistogram())
	prometheus.NewRegistry().MustRegister(gpServer, gpClient)
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	tp := noop.NewTracerProvider()
	return []overheadStack{
		{name: "Bare"},
		{name: "Perfobs", call: perfobs},
		{name: "PerfobsWithStats", call: perfobs, server: grpcmw.ServerStatsHandler(rec), client: grpcmw.ClientStatsHandler(rec)},
		{name: "GoGRPCMiddleware", call: interceptorCall{gpServer.UnaryServerInterceptor(), gpClient.UnaryClientInterceptor(),
			gpServer.StreamServerInterceptor(), gpClient.StreamClientInterceptor()}},
		{name: "Otelgrpc",
			server: otelgrpc.NewServerHandler(otelgrpc.WithMeterProvider(mp), otelgrpc.WithTracerProvider(tp)),
			client: otelgrpc.NewClientHandler(otelgrpc.WithMeterProvider(mp), otelgrpc.WithTracerProvider(tp))},
	}
}

// BenchmarkGRPCOverhead measures one unary call and one ten-message stream, server and client
// side, through each stack's hooks alone; serial and from GOMAXPROCS goroutines.
func BenchmarkGRPCOverhead(b *testing.B) {
	for _, kind := range []string{"Unary", "Stream10"} {
		for _, parallel := range []bool{false, true} {
			mode := "Serial"
			if parallel {
				mode = "Parallel"
			}
			for _, s := range overheadStacks(b) {
				b.Run(kind+"/"+mode+"/"+s.name, func(b *testing.B) {
					run := func() func() {
						ctx := context.Background()
						ss, cs := &nopServerStream{ctx: ctx}, &nopClientStream{ctx: ctx}
						streamer := cs.streamer
						if kind == "Unary" {
							return func() { s.unary(ctx) }
						}
						return func() { s.stream(ctx, ss, cs, streamer) }
					}
					f := run()
					f() // create the series
					b.ReportAllocs()
					b.ResetTimer()
					if !parallel {
						for b.Loop() {
							f()
						}
						return
					}
					b.RunParallel(func(pb *testing.PB) {
						f := run()
						for pb.Next() {
							f()
						}
					})
				})
			}
		}
	}
}
