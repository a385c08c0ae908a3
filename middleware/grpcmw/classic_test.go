package grpcmw_test

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/middleware"
	"github.com/perfobs/perfobs-go/middleware/grpcmw"
)

// TestClassicNames: with WithClassicNames the server's calls appear under go-grpc-middleware's
// names and labels, with grpc_type, and the default names are gone.
func TestClassicNames(t *testing.T) {
	reg := prometheus.NewRegistry()
	opts := []middleware.Option{middleware.WithRegisterer(reg), middleware.WithClassicNames()}
	unaryCall := grpcmw.UnaryServerInterceptor(opts...)
	streamCall := grpcmw.StreamServerInterceptor(opts...)
	info := &grpc.UnaryServerInfo{FullMethod: "/shop.Checkout/Pay"}
	for _, err := range []error{nil, nil, status.Error(codes.NotFound, "no")} {
		unaryCall(context.Background(), nil, info, func(context.Context, any) (any, error) { return nil, err })
	}
	sinfo := &grpc.StreamServerInfo{FullMethod: "/shop.Checkout/Watch", IsServerStream: true}
	streamCall(struct{}{}, fakeServerStream{}, sinfo, func(any, grpc.ServerStream) error { return nil })

	want := `
# HELP grpc_server_handled_total Number of gRPC calls the server completed, by status code.
# TYPE grpc_server_handled_total counter
grpc_server_handled_total{grpc_code="NotFound",grpc_method="Pay",grpc_service="shop.Checkout",grpc_type="unary"} 1
grpc_server_handled_total{grpc_code="OK",grpc_method="Pay",grpc_service="shop.Checkout",grpc_type="unary"} 2
grpc_server_handled_total{grpc_code="OK",grpc_method="Watch",grpc_service="shop.Checkout",grpc_type="server_stream"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), catalog.ClassicGRPCServerHandled); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(reg, catalog.ClassicGRPCServerHandling); n != 2 {
		t.Errorf("%s has %d series, want 2 (one per method: no grpc_code label)", catalog.ClassicGRPCServerHandling, n)
	}
	if n := testutil.CollectAndCount(reg, catalog.RPCServerDuration); n != 0 {
		t.Errorf("%s still has %d series in classic mode", catalog.RPCServerDuration, n)
	}
}
