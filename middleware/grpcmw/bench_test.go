package grpcmw_test

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/grpc"

	"github.com/perfobs/perfobs-go/middleware"
	"github.com/perfobs/perfobs-go/middleware/grpcmw"
)

// tracingModes are the interceptors' configurations whose cost the benchmarks and the
// allocation test compare: off, and on with an SDK provider that samples every call (or none).
func tracingModes(tb testing.TB) []struct {
	name string
	opts []middleware.Option
} {
	sampled := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	unsampled := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
	tb.Cleanup(func() {
		sampled.Shutdown(context.Background())
		unsampled.Shutdown(context.Background())
	})
	return []struct {
		name string
		opts []middleware.Option
	}{
		{"tracing off", nil},
		{"sampled", []middleware.Option{middleware.WithTracerProvider(sampled)}},
		{"not sampled", []middleware.Option{middleware.WithTracerProvider(unsampled)}},
	}
}

// interceptorCalls returns a unary server call and a unary client call through rec's
// interceptors around handlers that do nothing.
func interceptorCalls(rec *grpcmw.Recorder) (server, client func()) {
	ctx := context.Background()
	us, uc := grpcmw.UnaryServerInterceptor(rec), grpcmw.UnaryClientInterceptor(rec)
	handler := func(context.Context, any) (any, error) { return nil, nil }
	invoker := func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error { return nil }
	return func() { _, _ = us(ctx, nil, unaryInfo, handler) },
		func() { _ = uc(ctx, "/pkg.Svc/Get", nil, nil, nil, invoker) }
}

// BenchmarkUnaryInterceptors measures one unary call through the server or the client
// interceptor, with tracing off and on:
//
//	go test -run '^$' -bench UnaryInterceptors -benchmem ./middleware/grpcmw
func BenchmarkUnaryInterceptors(b *testing.B) {
	for _, m := range tracingModes(b) {
		rec, err := grpcmw.New(append([]middleware.Option{middleware.WithRegisterer(prometheus.NewRegistry())}, m.opts...)...)
		if err != nil {
			b.Fatal(err)
		}
		server, client := interceptorCalls(rec)
		for _, side := range []struct {
			name string
			f    func()
		}{{"server", server}, {"client", client}} {
			b.Run(m.name+"/"+side.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					side.f()
				}
			})
		}
	}
}

// TestTracedCallAllocations bounds what tracing adds to a unary call through the interceptors
// alone (the doc's cost section quotes these numbers): the SDK's span, its attributes, the span's
// context, and on the client the outgoing metadata that carries it. With tracing off the call
// does not allocate (TestNoAllocsPerCall).
func TestTracedCallAllocations(t *testing.T) {
	limits := map[string][2]float64{ // server, client
		"tracing off": {0, 0},
		"sampled":     {10, 15},
		"not sampled": {8, 13},
	}
	for _, m := range tracingModes(t) {
		t.Run(m.name, func(t *testing.T) {
			rec, err := grpcmw.New(append([]middleware.Option{middleware.WithRegisterer(prometheus.NewRegistry())}, m.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			server, client := interceptorCalls(rec)
			server()
			client()
			s, c := testing.AllocsPerRun(200, server), testing.AllocsPerRun(200, client)
			t.Logf("allocations per unary call: server %v, client %v", s, c)
			slack := 0.0
			if raceEnabled && m.opts != nil {
				slack = 3 // the race detector's build of the SDK allocates a little more
			}
			if max := limits[m.name]; s > max[0]+slack || c > max[1]+slack {
				t.Errorf("server %v, client %v allocations; want at most %v and %v", s, c, max[0], max[1])
			}
		})
	}
}
