// Package grpctest is the one gRPC test server of this project's tests: gRPC's interop
// TestService, answering as each request's payload asks (Command), on a TCP listener or an
// in-memory bufconn, with a client connected to it.
package grpctest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
)

// Commands the Service understands in a request payload's body. A request without one answers
// at once with the status its ResponseStatus asks for (OK when none).
const (
	Panic = "panic" // panic in the handler, after Service.PanicDelay
	Wait  = "wait"  // block until the call's context ends, then return its error
	Sleep = "sleep" // sleep Service.SlowCall (SlowCall by default), then answer
	Wrap  = "wrap"  // return the requested status wrapped in another error
	Plain = "plain" // return a plain (non-status) error
	// Deadline returns the error of a context whose deadline passed (a backend call timing out).
	Deadline = "deadline"
	// Fail returns INTERNAL, unless the Service is Clean.
	Fail = "fail"
	// Slow sleeps Service.SlowCall before answering, unless the Service is Clean.
	Slow = "slow"
)

// SlowCall is how long Sleep and Slow take when Service.SlowCall is zero.
const SlowCall = 30 * time.Millisecond

// ErrPanic is the value a Panic command panics with.
var ErrPanic = errors.New("grpctest: handler bug")

// Service implements the interop TestService. The zero value is ready to use.
type Service struct {
	testpb.UnimplementedTestServiceServer
	// Clean makes Fail and Slow answer at once and well: the healthy twin of a faulty service,
	// which gets the same requests.
	Clean bool
	// SlowCall is how long Sleep and Slow take; SlowCall (the constant) when zero.
	SlowCall time.Duration
	// PanicDelay is how long a Panic command works before it panics, so that its latency can be checked.
	PanicDelay time.Duration
}

func body(p *testpb.Payload) string {
	if p == nil {
		return ""
	}
	return string(p.Body)
}

func (s *Service) slow() time.Duration {
	if s.SlowCall > 0 {
		return s.SlowCall
	}
	return SlowCall
}

// sleep waits d or until ctx ends, and returns ctx's error in the second case.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// statusErr returns the error a request asks for, nil for none.
func statusErr(st *testpb.EchoStatus, cmd string) error {
	if cmd == Plain {
		return errors.New("plain failure")
	}
	if st == nil || st.Code == 0 {
		return nil
	}
	err := status.Error(codes.Code(st.Code), st.Message)
	if cmd == Wrap {
		return fmt.Errorf("looking it up: %w", err)
	}
	return err
}

// run carries out cmd; done reports that the call's answer is the returned error.
func (s *Service) run(ctx context.Context, cmd string) (err error, done bool) {
	switch cmd {
	case Panic:
		time.Sleep(s.PanicDelay)
		panic(ErrPanic)
	case Wait:
		<-ctx.Done()
		return ctx.Err(), true
	case Sleep:
		return sleep(ctx, s.slow()), false
	case Deadline:
		backend, cancel := context.WithTimeout(ctx, time.Millisecond)
		defer cancel()
		<-backend.Done()
		return fmt.Errorf("backend: %w", backend.Err()), true
	case Fail:
		if !s.Clean {
			return status.Error(codes.Internal, "injected failure"), true
		}
	case Slow:
		if !s.Clean {
			return sleep(ctx, s.slow()), false
		}
	}
	return nil, false
}

// EmptyCall answers at once.
func (s *Service) EmptyCall(context.Context, *testpb.Empty) (*testpb.Empty, error) {
	return &testpb.Empty{}, nil
}

// UnaryCall carries out the payload's command and answers with ResponseSize bytes.
func (s *Service) UnaryCall(ctx context.Context, req *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	cmd := body(req.Payload)
	if err, done := s.run(ctx, cmd); done || err != nil {
		return nil, err
	}
	if err := statusErr(req.ResponseStatus, cmd); err != nil {
		return nil, err
	}
	return &testpb.SimpleResponse{Payload: &testpb.Payload{Body: make([]byte, req.ResponseSize)}}, nil
}

// StreamingOutputCall sends one message per response parameter, then carries out the command.
func (s *Service) StreamingOutputCall(req *testpb.StreamingOutputCallRequest, stream grpc.ServerStreamingServer[testpb.StreamingOutputCallResponse]) error {
	for _, p := range req.ResponseParameters {
		time.Sleep(time.Duration(p.IntervalUs) * time.Microsecond)
		if err := stream.Send(&testpb.StreamingOutputCallResponse{Payload: &testpb.Payload{Body: make([]byte, p.Size)}}); err != nil {
			return err
		}
	}
	cmd := body(req.Payload)
	if err, done := s.run(stream.Context(), cmd); done || err != nil {
		return err
	}
	return statusErr(req.ResponseStatus, cmd)
}

// StreamingInputCall reads every message and answers with the total payload size.
func (s *Service) StreamingInputCall(stream grpc.ClientStreamingServer[testpb.StreamingInputCallRequest, testpb.StreamingInputCallResponse]) error {
	var total int32
	for {
		req, err := stream.Recv()
		if err == io.EOF {
			return stream.SendAndClose(&testpb.StreamingInputCallResponse{AggregatedPayloadSize: total})
		}
		if err != nil {
			return err
		}
		total += int32(len(body(req.Payload)))
	}
}

// FullDuplexCall answers each message with its response parameters, then its requested status.
func (s *Service) FullDuplexCall(stream grpc.BidiStreamingServer[testpb.StreamingOutputCallRequest, testpb.StreamingOutputCallResponse]) error {
	for {
		req, err := stream.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		for _, p := range req.ResponseParameters {
			if err := stream.Send(&testpb.StreamingOutputCallResponse{Payload: &testpb.Payload{Body: make([]byte, p.Size)}}); err != nil {
				return err
			}
		}
		if err := statusErr(req.ResponseStatus, body(req.Payload)); err != nil {
			return err
		}
	}
}

// UnknownMethod answers every call to a method no service registered (grpc.UnknownServiceHandler):
// it reads the request and returns NOT_FOUND.
func UnknownMethod(_ any, stream grpc.ServerStream) error {
	var in testpb.Empty
	if err := stream.RecvMsg(&in); err != nil {
		return err
	}
	return status.Error(codes.NotFound, "no such method")
}

// Network is how a client reaches the server.
type Network string

// The networks Start offers.
const (
	TCP     Network = "tcp"     // a listener on 127.0.0.1
	Bufconn Network = "bufconn" // gRPC's in-memory listener
)

// Networks lists both, for tests that run on each.
var Networks = []Network{TCP, Bufconn}

// Config says what Start runs. The zero value serves a default Service over TCP.
type Config struct {
	Network Network
	Service *Service            // nil: &Service{}
	Server  []grpc.ServerOption // the server's options, interceptors and stats handlers included
	Dial    []grpc.DialOption   // the client's, after the transport credentials
	// Register registers more services on the server before it starts.
	Register func(*grpc.Server)
}

// Server is a running test server and a client connected to it; both stop when the test ends.
type Server struct {
	Addr   string // host:port for TCP, the bufconn target otherwise
	Conn   *grpc.ClientConn
	Client testpb.TestServiceClient
	Server *grpc.Server
}

// Start serves cfg's Service and connects a client to it. Serve's error, if any, fails the test.
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	svc := cfg.Service
	if svc == nil {
		svc = &Service{}
	}
	srv := grpc.NewServer(cfg.Server...)
	testpb.RegisterTestServiceServer(srv, svc)
	if cfg.Register != nil {
		cfg.Register(srv)
	}
	var (
		lis    net.Listener
		target string
		dial   = []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	)
	switch cfg.Network {
	case TCP, "":
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lis, target = l, l.Addr().String()
	case Bufconn:
		l := bufconn.Listen(1 << 20)
		lis, target = l, "passthrough:///bufconn"
		dial = append(dial, grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			return l.DialContext(ctx)
		}))
	default:
		t.Fatalf("grpctest: unknown network %q", cfg.Network)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	conn, err := grpc.NewClient(target, append(dial, cfg.Dial...)...)
	if err != nil {
		srv.Stop()
		<-served
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		srv.Stop()
		if err := <-served; err != nil {
			t.Errorf("grpctest: Serve: %v", err)
		}
	})
	return &Server{Addr: target, Conn: conn, Client: testpb.NewTestServiceClient(conn), Server: srv}
}
