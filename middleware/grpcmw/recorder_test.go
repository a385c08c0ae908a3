package grpcmw_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/middleware"
	"github.com/perfobs/perfobs-go/middleware/grpcmw"
)

var unaryInfo = &grpc.UnaryServerInfo{FullMethod: "/pkg.Svc/Get"}

func TestStatusOfErrors(t *testing.T) {
	tests := []struct {
		name           string
		err            error
		server, client string // wanted "status|error_type"
	}{
		{"nil", nil, "OK|", "OK|"},
		{"status", status.Error(codes.NotFound, "x"), "NOT_FOUND|", "NOT_FOUND|NOT_FOUND"},
		{"wrapped status", fmt.Errorf("a: %w", fmt.Errorf("b: %w", status.Error(codes.DataLoss, "x"))), "DATA_LOSS|DATA_LOSS", "DATA_LOSS|DATA_LOSS"},
		{"context canceled", context.Canceled, "CANCELLED|", "CANCELLED|CANCELLED"},
		{"wrapped deadline", fmt.Errorf("db: %w", context.DeadlineExceeded), "DEADLINE_EXCEEDED|DEADLINE_EXCEEDED", "DEADLINE_EXCEEDED|DEADLINE_EXCEEDED"},
		{"plain", errors.New("boom"), "UNKNOWN|UNKNOWN", "UNKNOWN|UNKNOWN"},
		{"undefined code", status.Error(codes.Code(42), "x"), "_OTHER|_OTHER", "_OTHER|_OTHER"},
		{"unauthenticated", status.Error(codes.Unauthenticated, "x"), "UNAUTHENTICATED|", "UNAUTHENTICATED|UNAUTHENTICATED"},
		{"unimplemented", status.Error(codes.Unimplemented, "x"), "UNIMPLEMENTED|UNIMPLEMENTED", "UNIMPLEMENTED|UNIMPLEMENTED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			rec, err := grpcmw.New(middleware.WithRegisterer(reg))
			if err != nil {
				t.Fatal(err)
			}
			_, got := grpcmw.UnaryServerInterceptor(rec)(context.Background(), nil, unaryInfo, func(context.Context, any) (any, error) {
				return nil, tt.err
			})
			if got != tt.err {
				t.Errorf("interceptor returned %v, want the handler's error %v", got, tt.err)
			}
			got = grpcmw.UnaryClientInterceptor(rec)(context.Background(), "/pkg.Svc/Get", nil, nil, nil,
				func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error { return tt.err })
			if got != tt.err {
				t.Errorf("client interceptor returned %v, want the invoker's error %v", got, tt.err)
			}
			wantOne(t, series(t, reg, catalog.RPCServerDuration), catalog.RPCServerDuration, "pkg.Svc/Get|"+tt.server, 1)
			wantOne(t, series(t, reg, catalog.RPCClientDuration), catalog.RPCClientDuration, "pkg.Svc/Get|"+tt.client, 1)
		})
	}
}

func TestCodeName(t *testing.T) {
	want := []string{"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
		"ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
		"OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"}
	for c, name := range want {
		if got := grpcmw.CodeName(codes.Code(c)); got != name {
			t.Errorf("CodeName(%d) = %q, want %q", c, got, name)
		}
	}
	for _, c := range []codes.Code{17, 100, 1 << 31} {
		if got := grpcmw.CodeName(c); got != catalog.OtherValue {
			t.Errorf("CodeName(%d) = %q, want %q", c, got, catalog.OtherValue)
		}
	}
}

// TestPanicGoesOn: without any recovery, the panic leaves the interceptor unchanged, after the
// call was recorded as INTERNAL with error_type "panic".
func TestPanicGoesOn(t *testing.T) {
	reg := prometheus.NewRegistry()
	rec, err := grpcmw.New(middleware.WithRegisterer(reg))
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	p := catch(func() {
		grpcmw.UnaryServerInterceptor(rec)(context.Background(), nil, unaryInfo, func(context.Context, any) (any, error) { panic(boom) })
	})
	if p != boom {
		t.Errorf("unary: panic value %v, want the handler's %v", p, boom)
	}
	p = catch(func() {
		grpcmw.StreamServerInterceptor(rec)(struct{}{}, fakeServerStream{}, &grpc.StreamServerInfo{FullMethod: "/pkg.Svc/Watch"},
			func(any, grpc.ServerStream) error { panic(boom) })
	})
	if p != boom {
		t.Errorf("stream: panic value %v, want the handler's %v", p, boom)
	}
	s := series(t, reg, catalog.RPCServerDuration)
	for _, k := range []string{"pkg.Svc/Get|INTERNAL|panic", "pkg.Svc/Watch|INTERNAL|panic"} {
		if s[k].count != 1 || len(s) != 2 {
			t.Errorf("series %v, want %q once", keys(s), k)
		}
	}
}

// TestSharedCollectors: interceptors built separately on one registry share their series.
func TestSharedCollectors(t *testing.T) {
	reg := prometheus.NewRegistry()
	a := grpcmw.UnaryServerInterceptor(middleware.WithRegisterer(reg))
	b := grpcmw.UnaryServerInterceptor(middleware.WithRegisterer(reg))
	_ = grpcmw.StreamServerInterceptor(middleware.WithRegisterer(reg))
	_ = grpcmw.UnaryClientInterceptor(middleware.WithRegisterer(reg))
	_ = grpcmw.StreamClientInterceptor(middleware.WithRegisterer(reg))
	_ = grpcmw.ServerStatsHandler(middleware.WithRegisterer(reg))
	_ = grpcmw.ClientStatsHandler(middleware.WithRegisterer(reg))
	ok := func(context.Context, any) (any, error) { return nil, nil }
	for _, f := range []grpc.UnaryServerInterceptor{a, b, a} {
		if _, err := f(context.Background(), nil, unaryInfo, ok); err != nil {
			t.Fatal(err)
		}
	}
	wantOne(t, series(t, reg, catalog.RPCServerDuration), catalog.RPCServerDuration, "pkg.Svc/Get|OK|", 3)
}

func TestDefaultRegisterer(t *testing.T) {
	const key = "pkg.Svc/Default|OK|"
	before := series(t, prometheus.DefaultGatherer, catalog.RPCServerDuration)[key].count
	rec, err := grpcmw.New()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := grpcmw.UnaryServerInterceptor(rec)(context.Background(), nil, &grpc.UnaryServerInfo{FullMethod: "/pkg.Svc/Default"},
		func(context.Context, any) (any, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	if got := series(t, prometheus.DefaultGatherer, catalog.RPCServerDuration)[key].count; got != before+1 {
		t.Errorf("default registry: %s{%s} count %d, want %d", catalog.RPCServerDuration, key, got, before+1)
	}
}

func TestInvalidOptions(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := grpcmw.New(middleware.WithRegisterer(reg)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts []middleware.Option
		want string // in the error
	}{
		{"label cap", []middleware.Option{middleware.WithLabelCap(0)}, "WithLabelCap"},
		{"nil filter", []middleware.Option{middleware.WithMethodFilter(nil)}, "WithMethodFilter"},
		{"bad buckets", []middleware.Option{middleware.WithDurationBuckets(1, 0.5)}, "WithDurationBuckets"},
		{"buckets conflict with the registry", []middleware.Option{middleware.WithRegisterer(reg), middleware.WithDurationBuckets(0.1, 1)}, "already has " + catalog.RPCServerDuration},
		{"size buckets conflict with the registry", []middleware.Option{middleware.WithRegisterer(reg), middleware.WithMessageSizeBuckets(10, 100)}, "already has " + catalog.RPCServerRequestSize},
		{"bad message-size buckets", []middleware.Option{middleware.WithMessageSizeBuckets()}, "WithMessageSizeBuckets: need at least one"},
		{"HTTP-only option", []middleware.Option{middleware.WithSkipPaths("/healthz")}, "WithSkipPaths applies to the HTTP middleware (middleware.HTTP), not to grpcmw."},
		{"HTTP-only route option", []middleware.Option{middleware.WithServeMux(http.NewServeMux())}, "WithServeMux applies to the HTTP middleware"},
		{"HTTP body sizes", []middleware.Option{middleware.WithBodySizes()}, "WithBodySizes applies to the HTTP middleware"},
		{"HTTP recorder", []middleware.Option{httpRecorder(t)}, "*middleware.Recorder applies to the HTTP middleware (middleware.HTTP) and the HTTP client (middleware.Transport), not to grpcmw."},
		{"recorder with other options", []middleware.Option{grpcRecorder(t), middleware.WithLabelCap(3)}, "*grpcmw.Recorder carries its options already: pass it alone"},
		{"nil recorder", []middleware.Option{(*grpcmw.Recorder)(nil)}, "option 0 is nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := grpcmw.New(tt.opts...); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New: error %v, want one naming %q", err, tt.want)
			}
			for name, build := range map[string]func(){
				"UnaryServerInterceptor":  func() { grpcmw.UnaryServerInterceptor(tt.opts...) },
				"StreamServerInterceptor": func() { grpcmw.StreamServerInterceptor(tt.opts...) },
				"UnaryClientInterceptor":  func() { grpcmw.UnaryClientInterceptor(tt.opts...) },
				"StreamClientInterceptor": func() { grpcmw.StreamClientInterceptor(tt.opts...) },
				"ServerStatsHandler":      func() { grpcmw.ServerStatsHandler(tt.opts...) },
				"ClientStatsHandler":      func() { grpcmw.ClientStatsHandler(tt.opts...) },
				"ServerOptions":           func() { grpcmw.ServerOptions(tt.opts...) },
				"DialOptions":             func() { grpcmw.DialOptions(tt.opts...) },
			} {
				p := func() (p any) {
					defer func() { p = recover() }()
					build()
					return nil
				}()
				if s, _ := p.(string); !strings.HasPrefix(s, "grpcmw."+name+": ") || !strings.Contains(s, tt.want) {
					t.Errorf("%s: panic %v, want one naming the constructor and %q", name, p, tt.want)
				}
			}
		})
	}
}

func httpRecorder(t *testing.T) *middleware.Recorder {
	r, err := middleware.New(middleware.WithRegisterer(prometheus.NewRegistry()))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func grpcRecorder(t *testing.T) *grpcmw.Recorder {
	r, err := grpcmw.New(middleware.WithRegisterer(prometheus.NewRegistry()))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRecorderIsTheValidatedOptions: a Recorder passed alone builds every hook without
// re-validating, and records into its registry.
func TestRecorderIsTheValidatedOptions(t *testing.T) {
	reg := prometheus.NewRegistry()
	rec, err := grpcmw.New(middleware.WithRegisterer(reg))
	if err != nil {
		t.Fatal(err)
	}
	info := &grpc.UnaryServerInfo{FullMethod: "/shop.Checkout/Pay"}
	grpcmw.UnaryServerInterceptor(rec)(context.Background(), nil, info, func(context.Context, any) (any, error) { return nil, nil })
	if n := testutil.CollectAndCount(reg, catalog.RPCServerDuration); n != 1 {
		t.Fatalf("%s has %d series after one call through the Recorder, want 1", catalog.RPCServerDuration, n)
	}
	if got := len(grpcmw.ServerOptions(rec)) + len(grpcmw.DialOptions(rec)); got != 6 {
		t.Fatalf("ServerOptions and DialOptions give %d options, want 3 each", got)
	}
}

// TestNoGRPCElsewhere keeps gRPC out of the packages that promise not to link it.
func TestNoGRPCElsewhere(t *testing.T) {
	for _, tt := range []struct {
		pkgs     []string
		wantGRPC bool
	}{
		{[]string{"./middleware", "./runtimemetrics", "./leaktest"}, false},
		{[]string{"./middleware/grpcmw"}, true}, // the check itself works
	} {
		cmd := exec.Command("go", append([]string{"list", "-deps"}, tt.pkgs...)...)
		cmd.Dir = "../.."
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list -deps %v: %v", tt.pkgs, err)
		}
		var grpcDeps []string
		for _, p := range strings.Fields(string(out)) {
			if p == "google.golang.org/grpc" || strings.HasPrefix(p, "google.golang.org/grpc/") {
				grpcDeps = append(grpcDeps, p)
			}
		}
		if (len(grpcDeps) > 0) != tt.wantGRPC {
			t.Errorf("go list -deps %v: gRPC packages %v; want gRPC linked: %v", tt.pkgs, grpcDeps, tt.wantGRPC)
		}
	}
}

// fakeServerStream is a grpc.ServerStream that carries nothing.
type fakeServerStream struct{}

func (fakeServerStream) SetHeader(metadata.MD) error  { return nil }
func (fakeServerStream) SendHeader(metadata.MD) error { return nil }
func (fakeServerStream) SetTrailer(metadata.MD)       {}
func (fakeServerStream) Context() context.Context     { return context.Background() }
func (fakeServerStream) SendMsg(any) error            { return nil }
func (fakeServerStream) RecvMsg(any) error            { return nil }

// fakeClientStream is a grpc.ClientStream whose RecvMsg returns err.
type fakeClientStream struct {
	ctx context.Context
	err error
}

func (*fakeClientStream) Header() (metadata.MD, error) { return nil, nil }
func (*fakeClientStream) Trailer() metadata.MD         { return nil }
func (*fakeClientStream) CloseSend() error             { return nil }
func (s *fakeClientStream) Context() context.Context   { return s.ctx }
func (*fakeClientStream) SendMsg(any) error            { return nil }
func (s *fakeClientStream) RecvMsg(any) error          { return s.err }
