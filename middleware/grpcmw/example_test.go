package grpcmw_test

import (
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"github.com/perfobs/perfobs-go/middleware"
	"github.com/perfobs/perfobs-go/middleware/grpcmw"
)

// echoService answers EmptyCall, and UnaryCall with the status its request asks for.
type echoService struct {
	testpb.UnimplementedTestServiceServer
}

func (echoService) EmptyCall(context.Context, *testpb.Empty) (*testpb.Empty, error) {
	return &testpb.Empty{}, nil
}

func (echoService) UnaryCall(_ context.Context, req *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	if st := req.GetResponseStatus(); st.GetCode() != 0 {
		return nil, status.Error(codes.Code(st.GetCode()), st.GetMessage())
	}
	return &testpb.SimpleResponse{}, nil
}

// A server and a client instrumented on one registry, over an in-memory connection.
func ExampleNew() {
	reg := prometheus.NewRegistry()
	rec, err := grpcmw.New(middleware.WithRegisterer(reg), middleware.WithMethodFilter(grpcmw.NotHealthOrReflection))
	if err != nil {
		panic(err)
	}
	srv := grpc.NewServer(grpcmw.ServerOptions(rec)...)
	testpb.RegisterTestServiceServer(srv, echoService{})
	lis := bufconn.Listen(1 << 16)
	go srv.Serve(lis)
	defer srv.Stop()

	conn, err := grpc.NewClient("passthrough:///example",
		append(grpcmw.DialOptions(rec),
			grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		)...)
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	client := testpb.NewTestServiceClient(conn)

	ctx := context.Background()
	client.EmptyCall(ctx, &testpb.Empty{})
	client.UnaryCall(ctx, &testpb.SimpleRequest{ResponseStatus: &testpb.EchoStatus{Code: int32(codes.NotFound)}})

	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if !strings.HasSuffix(mf.GetName(), "_call_duration_seconds") {
			continue
		}
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+fmt.Sprintf("%q", l.GetValue()))
			}
			fmt.Printf("%s{%s} count %d\n", mf.GetName(), strings.Join(labels, ","), m.GetHistogram().GetSampleCount())
		}
	}
	// Output:
	// rpc_client_call_duration_seconds{error_type="",rpc_method="grpc.testing.TestService/EmptyCall",rpc_response_status_code="OK",rpc_system_name="grpc"} count 1
	// rpc_client_call_duration_seconds{error_type="NOT_FOUND",rpc_method="grpc.testing.TestService/UnaryCall",rpc_response_status_code="NOT_FOUND",rpc_system_name="grpc"} count 1
	// rpc_server_call_duration_seconds{error_type="",rpc_method="grpc.testing.TestService/EmptyCall",rpc_response_status_code="OK",rpc_system_name="grpc"} count 1
	// rpc_server_call_duration_seconds{error_type="",rpc_method="grpc.testing.TestService/UnaryCall",rpc_response_status_code="NOT_FOUND",rpc_system_name="grpc"} count 1
}
