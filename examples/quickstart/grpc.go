package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"

	"github.com/perfobs/perfobs-go/middleware"
	"github.com/perfobs/perfobs-go/middleware/grpcmw"
)

// startGRPC serves the gRPC side on addr, recording into the observer's registry through opts,
// and drives rate calls per second against it when load is on. stop ends the load, closes the
// client and stops the server gracefully.
func startGRPC(ctx context.Context, addr string, opts []middleware.Option, load bool, rate int, out io.Writer) (stop func(), err error) {
	rec, err := grpcmw.New(opts...)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := grpc.NewServer(grpcmw.ServerOptions(rec)...)
	testpb.RegisterTestServiceServer(srv, grpcService{})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(out, "quickstart: gRPC on %s (grpc.testing.TestService)\n", ln.Addr())
	conn, err := grpc.NewClient(ln.Addr().String(), append(grpcmw.DialOptions(rec), grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		srv.Stop()
		<-served
		return nil, err
	}
	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	if load {
		wg.Add(1)
		go func() { defer wg.Done(); driveGRPC(loadCtx, testpb.NewTestServiceClient(conn), rate) }()
	}
	return sync.OnceFunc(func() { stopLoad(); wg.Wait(); conn.Close(); srv.GracefulStop(); <-served }), nil
}

// grpcService is a lookup that is sometimes NOT_FOUND (not a server error) or UNAVAILABLE (a
// server error), and a server stream.
type grpcService struct {
	testpb.UnimplementedTestServiceServer
}

func (grpcService) UnaryCall(ctx context.Context, req *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	time.Sleep(time.Duration(1+rand.IntN(5)) * time.Millisecond)
	switch n := rand.IntN(100); {
	case n < 3:
		return nil, status.Error(codes.NotFound, "no such item")
	case n < 5:
		return nil, status.Error(codes.Unavailable, "inventory backend down")
	}
	return &testpb.SimpleResponse{Payload: &testpb.Payload{Body: make([]byte, req.ResponseSize)}}, nil
}

func (grpcService) StreamingOutputCall(req *testpb.StreamingOutputCallRequest, s grpc.ServerStreamingServer[testpb.StreamingOutputCallResponse]) error {
	for _, p := range req.ResponseParameters {
		time.Sleep(2 * time.Millisecond)
		if err := s.Send(&testpb.StreamingOutputCallResponse{Payload: &testpb.Payload{Body: make([]byte, p.Size)}}); err != nil {
			return err
		}
	}
	return nil
}

// driveGRPC sends rate calls per second (see openLoop): four in five are unary lookups, one in
// five a 5-message stream read to its end.
func driveGRPC(ctx context.Context, c testpb.TestServiceClient, rate int) {
	stream := &testpb.StreamingOutputCallRequest{ResponseParameters: []*testpb.ResponseParameters{{Size: 64}, {Size: 64}, {Size: 64}, {Size: 64}, {Size: 64}}}
	openLoop(ctx, rate, func() {
		callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if rand.IntN(5) > 0 {
			c.UnaryCall(callCtx, &testpb.SimpleRequest{ResponseSize: int32(rand.IntN(512))})
			return
		}
		st, err := c.StreamingOutputCall(callCtx, stream)
		if err != nil {
			return
		}
		for st.RecvMsg(new(testpb.StreamingOutputCallResponse)) == nil {
		}
	})
}
