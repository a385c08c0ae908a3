package grpcmw_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/middleware"
	"github.com/perfobs/perfobs-go/middleware/grpcmw"
)

// unknownHandler answers every call to an unregistered method, reading one message first.
func unknownHandler(_ any, stream grpc.ServerStream) error {
	var in testpb.Empty
	if err := stream.RecvMsg(&in); err != nil {
		return err
	}
	return status.Error(codes.Unimplemented, "no such method here")
}

// TestUnknownMethodsCollapse sends calls to random methods at a server with an
// UnknownServiceHandler: they all land in one rpc_method value, "_OTHER".
func TestUnknownMethodsCollapse(t *testing.T) {
	for _, nw := range networks {
		t.Run(string(nw), func(t *testing.T) {
			e := start(t, nw, setup{serverOpts: []grpc.ServerOption{grpc.UnknownServiceHandler(unknownHandler)}, bareClient: true})
			const n = 40
			for i := range n {
				method := fmt.Sprintf("/attacker.Service%d/Method%d", i, i)
				if i%2 == 0 { // a known service, an unknown method
					method = fmt.Sprintf("/grpc.testing.TestService/Nope%d", i)
				}
				err := e.conn.Invoke(context.Background(), method, &testpb.Empty{}, &testpb.Empty{})
				if status.Code(err) != codes.Unimplemented {
					t.Fatalf("%s: %v, want UNIMPLEMENTED", method, err)
				}
			}
			if _, err := e.client.EmptyCall(context.Background(), &testpb.Empty{}); err != nil {
				t.Fatal(err)
			}
			other := catalog.OtherValue + "|UNIMPLEMENTED|UNIMPLEMENTED"
			want := map[string]uint64{other: n, methodEmpty + "|OK|": 1}
			for _, name := range []string{catalog.RPCServerDuration, catalog.RPCServerRequestsPerRPC} {
				got := waitTotal(t, e.reg, name, n+1)
				if len(got) != len(want) {
					t.Errorf("%s: series %v, want %d", name, keys(got), len(want))
				}
				for k, c := range want {
					if got[k].count != c {
						t.Errorf("%s{%s}: count %d, want %d", name, k, got[k].count, c)
					}
				}
			}
			// Each unknown call sent one request message.
			if got := series(t, e.reg, catalog.RPCServerRequestSize); got[catalog.OtherValue].count != n || len(got) != 2 {
				t.Errorf("%s: %v (count of _OTHER %d), want _OTHER with %d", catalog.RPCServerRequestSize, keys(got), got[catalog.OtherValue].count, n)
			}
			if got := testutilOverflow(t, e.reg); got != 0 {
				t.Errorf("overflow counter = %v, want 0: unknown methods are not capped, they are one value", got)
			}
		})
	}
}

// TestLabelCapBoundsStatsHandler: a stats handler without the stream interceptor cannot tell
// unknown methods apart; the label cap still bounds them.
func TestLabelCapBoundsStatsHandler(t *testing.T) {
	reg := prometheus.NewRegistry()
	rec, err := grpcmw.New(middleware.WithRegisterer(reg), middleware.WithLabelCap(3))
	if err != nil {
		t.Fatal(err)
	}
	e := start(t, networks[1], setup{bareServer: true, bareClient: true, serverOpts: []grpc.ServerOption{
		grpc.UnknownServiceHandler(unknownHandler), grpc.StatsHandler(grpcmw.ServerStatsHandler(rec))}})
	for i := range 10 {
		_ = e.conn.Invoke(context.Background(), fmt.Sprintf("/x.S/M%d", i), &testpb.Empty{}, &testpb.Empty{})
	}
	got := waitTotal(t, reg, catalog.RPCServerRequestsPerRPC, 10)
	if len(got) != 4 || got[catalog.OtherValue+"|UNIMPLEMENTED|UNIMPLEMENTED"].count != 7 {
		t.Errorf("series %v, want 3 methods and _OTHER with 7 calls", keys(got))
	}
	if got := testutilOverflow(t, reg); got < 7 {
		t.Errorf("overflow counter = %v, want at least 7", got)
	}
}

func testutilOverflow(t *testing.T, g prometheus.Gatherer) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var v float64
	for _, mf := range mfs {
		if mf.GetName() == catalog.LabelOverflow {
			for _, m := range mf.GetMetric() {
				v += m.GetCounter().GetValue()
			}
		}
	}
	return v
}

func TestMethodFilter(t *testing.T) {
	e := start(t, networks[1], setup{
		opts: []middleware.Option{middleware.WithMethodFilter(grpcmw.NotHealthOrReflection)},
		register: func(s *grpc.Server) {
			healthpb.RegisterHealthServer(s, health.NewServer())
		},
	})
	resp, err := healthpb.NewHealthClient(e.conn).Check(context.Background(), &healthpb.HealthCheckRequest{})
	if err != nil || resp.Status != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health check: %v, %v", resp, err)
	}
	if _, err := e.client.EmptyCall(context.Background(), &testpb.Empty{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{catalog.RPCServerDuration, catalog.RPCClientDuration, catalog.RPCServerRequestsPerRPC, catalog.RPCClientResponsesPerRPC} {
		wantOne(t, waitSeries(t, e.reg, name), name, methodEmpty+"|OK|", 1)
	}
	for _, name := range []string{catalog.RPCServerRequestSize, catalog.RPCClientResponseSize} {
		wantOne(t, waitSeries(t, e.reg, name), name, methodEmpty, 1)
	}
}

func TestNotHealthOrReflection(t *testing.T) {
	tests := []struct {
		method string
		want   bool
	}{
		{"/grpc.health.v1.Health/Check", false},
		{"/grpc.health.v1.Health/Watch", false},
		{"/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", false},
		{"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", false},
		{"grpc.health.v1.Health/Check", false},
		{"/grpc.testing.TestService/EmptyCall", true},
		{"/my.health.v1.Health/Check", true},
		{"/grpc.healthy.Service/Check", true},
	}
	for _, tt := range tests {
		t.Run(strings.TrimPrefix(tt.method, "/"), func(t *testing.T) {
			if got := grpcmw.NotHealthOrReflection(tt.method); got != tt.want {
				t.Errorf("NotHealthOrReflection(%q) = %v, want %v", tt.method, got, tt.want)
			}
		})
	}
}
