package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/test/bufconn"

	"github.com/perfobs/perfobs-go/middleware"
	"github.com/perfobs/perfobs-go/middleware/grpcmw"
)

// The gRPC comparison: the same TestService over bufconn, through each stack on both the server
// and the client side, in one run. "Bare" has no instrumentation; each stack's overhead is its
// time minus Bare's. Unary is EmptyCall; the stream is StreamingOutputCall with ten responses.

type grpcServer struct {
	testpb.UnimplementedTestServiceServer
}

func (grpcServer) EmptyCall(context.Context, *testpb.Empty) (*testpb.Empty, error) {
	return &testpb.Empty{}, nil
}

func (grpcServer) StreamingOutputCall(req *testpb.StreamingOutputCallRequest, s grpc.ServerStreamingServer[testpb.StreamingOutputCallResponse]) error {
	resp := &testpb.StreamingOutputCallResponse{Payload: &testpb.Payload{Body: make([]byte, 16)}}
	for range req.ResponseParameters {
		if err := s.Send(resp); err != nil {
			return err
		}
	}
	return nil
}

// grpcStack is one way to instrument a server and its client. check, when set, returns how many
// calls the stack recorded on the server and the client.
type grpcStack struct {
	name   string
	server []grpc.ServerOption
	dial   []grpc.DialOption
	check  func(tb testing.TB) (server, client int)
}

func grpcStacks(tb testing.TB) []grpcStack {
	tb.Helper()
	perfobsReg := prometheus.NewRegistry()
	rec, err := grpcmw.New(middleware.WithRegisterer(perfobsReg))
	if err != nil {
		tb.Fatal(err)
	}
	fullReg := prometheus.NewRegistry()
	full, err := grpcmw.New(middleware.WithRegisterer(fullReg))
	if err != nil {
		tb.Fatal(err)
	}

	// go-grpc-middleware's Prometheus provider, with its handling-time histograms on.
	gpReg := prometheus.NewRegistry()
	gpServer := grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram())
	gpClient := grpcprom.NewClientMetrics(grpcprom.WithClientHandlingTimeHistogram())
	gpReg.MustRegister(gpServer, gpClient)

	// otelgrpc's stats handlers on an SDK meter provider with a manual reader; no-op tracing.
	otelReader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(otelReader))
	tp := noop.NewTracerProvider()

	return []grpcStack{
		{name: "Bare"},
		{name: "Perfobs",
			server: []grpc.ServerOption{grpc.ChainUnaryInterceptor(grpcmw.UnaryServerInterceptor(rec)), grpc.ChainStreamInterceptor(grpcmw.StreamServerInterceptor(rec))},
			dial:   []grpc.DialOption{grpc.WithChainUnaryInterceptor(grpcmw.UnaryClientInterceptor(rec)), grpc.WithChainStreamInterceptor(grpcmw.StreamClientInterceptor(rec))},
			check: func(tb testing.TB) (int, int) {
				return promCount(tb, perfobsReg, "rpc_server_call_duration_seconds"), promCount(tb, perfobsReg, "rpc_client_call_duration_seconds")
			}},
		// Perfobs with its stats handlers too: message sizes and counts.
		{name: "PerfobsWithStats", server: grpcmw.ServerOptions(full), dial: grpcmw.DialOptions(full),
			check: func(tb testing.TB) (int, int) {
				return promCount(tb, fullReg, "rpc_server_responses_per_rpc"), promCount(tb, fullReg, "rpc_client_responses_per_rpc")
			}},
		{name: "GoGRPCMiddleware",
			server: []grpc.ServerOption{grpc.ChainUnaryInterceptor(gpServer.UnaryServerInterceptor()), grpc.ChainStreamInterceptor(gpServer.StreamServerInterceptor())},
			dial:   []grpc.DialOption{grpc.WithChainUnaryInterceptor(gpClient.UnaryClientInterceptor()), grpc.WithChainStreamInterceptor(gpClient.StreamClientInterceptor())},
			check: func(tb testing.TB) (int, int) {
				return promCount(tb, gpReg, "grpc_server_handling_seconds"), promCount(tb, gpReg, "grpc_client_handling_seconds")
			}},
		{name: "Otelgrpc",
			server: []grpc.ServerOption{grpc.StatsHandler(otelgrpc.NewServerHandler(otelgrpc.WithMeterProvider(mp), otelgrpc.WithTracerProvider(tp)))},
			dial:   []grpc.DialOption{grpc.WithStatsHandler(otelgrpc.NewClientHandler(otelgrpc.WithMeterProvider(mp), otelgrpc.WithTracerProvider(tp)))},
			check: func(tb testing.TB) (int, int) {
				var rm metricdata.ResourceMetrics
				if err := otelReader.Collect(context.Background(), &rm); err != nil {
					tb.Fatal(err)
				}
				return otelCount(rm, "rpc.server.call.duration"), otelCount(rm, "rpc.client.call.duration")
			}},
	}
}

// promCount returns the total observation count of histogram family name.
func promCount(tb testing.TB, g prometheus.Gatherer, name string) int {
	tb.Helper()
	mfs, err := g.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	n := 0
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				n += int(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return n
}

// otelCount returns the total count of the float64 histogram name.
func otelCount(rm metricdata.ResourceMetrics, name string) int {
	n := 0
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if h, ok := m.Data.(metricdata.Histogram[float64]); ok && m.Name == name {
				for _, dp := range h.DataPoints {
					n += int(dp.Count)
				}
			}
		}
	}
	return n
}

// grpcConn serves TestService over bufconn with the stack's server options and returns a client
// with its dial options; both stop when tb ends.
func grpcConn(tb testing.TB, s grpcStack) testpb.TestServiceClient {
	tb.Helper()
	srv := grpc.NewServer(s.server...)
	testpb.RegisterTestServiceServer(srv, grpcServer{})
	lis := bufconn.Listen(1 << 20)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	dial := append([]grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
	}, s.dial...)
	conn, err := grpc.NewClient("passthrough:///bench", dial...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		conn.Close()
		srv.Stop()
		<-served
	})
	return testpb.NewTestServiceClient(conn)
}

// tenResponses asks the server for a stream of ten 16-byte messages.
var tenResponses = &testpb.StreamingOutputCallRequest{ResponseParameters: []*testpb.ResponseParameters{
	{Size: 16}, {Size: 16}, {Size: 16}, {Size: 16}, {Size: 16}, {Size: 16}, {Size: 16}, {Size: 16}, {Size: 16}, {Size: 16},
}}

func unaryCall(c testpb.TestServiceClient) error {
	_, err := c.EmptyCall(context.Background(), &testpb.Empty{})
	return err
}

// streamCall reads a ten-message server stream to its end.
func streamCall(c testpb.TestServiceClient) error {
	st, err := c.StreamingOutputCall(context.Background(), tenResponses)
	if err != nil {
		return err
	}
	var resp testpb.StreamingOutputCallResponse
	for n := 0; ; n++ {
		err := st.RecvMsg(&resp)
		if err == io.EOF {
			if n != 10 {
				return fmt.Errorf("got %d messages, want 10", n)
			}
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// TestGRPCStacksRecord checks that every instrumented stack records the calls the benchmarks
// make, so that none of them is measured doing nothing.
func TestGRPCStacksRecord(t *testing.T) {
	for _, s := range grpcStacks(t) {
		if s.check == nil {
			continue
		}
		t.Run(s.name, func(t *testing.T) {
			c := grpcConn(t, s)
			for range 3 {
				if err := unaryCall(c); err != nil {
					t.Fatal(err)
				}
				if err := streamCall(c); err != nil {
					t.Fatal(err)
				}
			}
			// The server records after the client got its answer: poll briefly.
			var server, client int
			for range 500 {
				if server, client = s.check(t); server == 6 && client == 6 {
					break
				}
				time.Sleep(2 * time.Millisecond)
			}
			if server != 6 || client != 6 {
				t.Errorf("recorded %d server and %d client calls, want 6 each", server, client)
			}
		})
	}
}

func benchGRPC(b *testing.B, call func(testpb.TestServiceClient) error, parallel bool) {
	for _, s := range grpcStacks(b) {
		b.Run(s.name, func(b *testing.B) {
			c := grpcConn(b, s)
			for range 100 { // connect, create the series, fill the pools
				if err := call(c); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			if !parallel {
				for b.Loop() {
					if err := call(c); err != nil {
						b.Fatal(err)
					}
				}
				return
			}
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := call(c); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkGRPCUnary runs one unary call through each stack, serially.
func BenchmarkGRPCUnary(b *testing.B) { benchGRPC(b, unaryCall, false) }

// BenchmarkGRPCUnaryParallel runs unary calls through each stack from GOMAXPROCS goroutines.
func BenchmarkGRPCUnaryParallel(b *testing.B) { benchGRPC(b, unaryCall, true) }

// BenchmarkGRPCStream runs one ten-message server stream through each stack, serially.
func BenchmarkGRPCStream(b *testing.B) { benchGRPC(b, streamCall, false) }

// BenchmarkGRPCStreamParallel runs ten-message server streams from GOMAXPROCS goroutines.
func BenchmarkGRPCStreamParallel(b *testing.B) { benchGRPC(b, streamCall, true) }
