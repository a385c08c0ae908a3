package flightrec_test

import (
	"context"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	testpb "google.golang.org/grpc/interop/grpc_testing"

	"github.com/perfobs/perfobs-go/middleware/grpcmw"
	"github.com/perfobs/perfobs-go/perfobs"
	"github.com/perfobs/perfobs-go/perfobs/tracesummary"
)

type sleepyServer struct {
	testpb.UnimplementedTestServiceServer
}

func (sleepyServer) EmptyCall(ctx context.Context, _ *testpb.Empty) (*testpb.Empty, error) {
	time.Sleep(60 * time.Millisecond)
	return &testpb.Empty{}, nil
}

// TestSlowGRPCCall: the facade's MiddlewareOptions carry the flight recorder to grpcmw; a slow
// unary call gives a snapshot named by its method, whose summary says sleep.
func TestSlowGRPCCall(t *testing.T) {
	s := start(t, perfobs.FlightRecorderConfig{Budget: 20 * time.Millisecond}, nil)
	g := grpc.NewServer(grpc.ChainUnaryInterceptor(grpcmw.UnaryServerInterceptor(s.obs.MiddlewareOptions()...)))
	testpb.RegisterTestServiceServer(g, sleepyServer{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go g.Serve(ln)
	defer g.Stop()
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := testpb.NewTestServiceClient(conn).EmptyCall(context.Background(), &testpb.Empty{}); err != nil {
		t.Fatal(err)
	}
	var list []entry
	for deadline := time.Now().Add(10 * time.Second); len(list) == 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		list = s.traces(t)
	}
	if len(list) != 1 || list[0].Route != "grpc.testing.TestService/EmptyCall" || list[0].TraceID == "" {
		t.Fatalf("snapshots %+v; want one of grpc.testing.TestService/EmptyCall with a trace id", list)
	}
	f := s.file(t, list[0])
	defer f.Close()
	sum, err := tracesummary.Summarize(f, tracesummary.Options{TraceID: list[0].TraceID})
	if err != nil || sum.Task != "grpc.testing.TestService/EmptyCall" || sum.Dominant() != tracesummary.ReasonSleep {
		t.Errorf("summary %+v, %v; want the call's task, mostly sleep", sum, err)
	}
	if got := snapshotAttr(s, list[0].TraceID); got != list[0].ID {
		t.Errorf("the call's server span carries snapshot id %q, want %q", got, list[0].ID)
	}
}
