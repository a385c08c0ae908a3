package grpcmw_test

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/middleware"
	"github.com/perfobs/perfobs-go/middleware/grpcmw"
)

// FuzzMethodLabels sends a call with any method name and status code through every hook: the
// registry must still gather, with valid UTF-8 label values, and the labels must stay within
// the bounds the package promises. Seeds are in testdata/fuzz/FuzzMethodLabels.
func FuzzMethodLabels(f *testing.F) {
	f.Add("/pkg.Svc/Get", uint32(0))
	f.Add("no-slash", uint32(5))
	f.Fuzz(func(t *testing.T, method string, code uint32) {
		reg := prometheus.NewRegistry()
		rec, err := grpcmw.New(middleware.WithRegisterer(reg), middleware.WithLabelCap(2))
		if err != nil {
			t.Fatal(err)
		}
		var callErr error
		if code != 0 {
			callErr = status.Error(codes.Code(code), "fuzz")
		}
		ctx := context.Background()
		_, _ = grpcmw.UnaryServerInterceptor(rec)(ctx, nil, &grpc.UnaryServerInfo{FullMethod: method},
			func(context.Context, any) (any, error) { return nil, callErr })
		_ = grpcmw.UnaryClientInterceptor(rec)(ctx, method, nil, nil, nil,
			func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error { return callErr })
		// An UnknownServiceHandler's call: srv is nil.
		_ = grpcmw.StreamServerInterceptor(rec)(nil, fakeServerStream{}, &grpc.StreamServerInfo{FullMethod: method},
			func(any, grpc.ServerStream) error { return callErr })
		for _, h := range []stats.Handler{grpcmw.ServerStatsHandler(rec), grpcmw.ClientStatsHandler(rec)} {
			c := h.TagRPC(ctx, &stats.RPCTagInfo{FullMethodName: method})
			h.HandleRPC(c, &stats.InPayload{Length: 3})
			h.HandleRPC(c, &stats.OutPayload{Length: 4})
			h.HandleRPC(c, &stats.End{Error: callErr})
		}

		mfs, err := reg.Gather()
		if err != nil {
			t.Fatalf("Gather: %v", err)
		}
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					v := l.GetValue()
					if !utf8.ValidString(v) {
						t.Errorf("%s: %s=%q is not UTF-8", mf.GetName(), l.GetName(), v)
					}
					switch l.GetName() {
					case catalog.LabelRPCMethod:
						want := strings.TrimPrefix(method, "/")
						if v != want && v != catalog.OtherValue {
							t.Errorf("%s: rpc_method %q, want %q or %q", mf.GetName(), v, want, catalog.OtherValue)
						}
					case catalog.LabelRPCStatus:
						if v != grpcmw.CodeName(codes.Code(code)) {
							t.Errorf("%s: status %q, want %q", mf.GetName(), v, grpcmw.CodeName(codes.Code(code)))
						}
					}
				}
			}
		}
	})
}
