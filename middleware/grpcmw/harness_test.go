package grpcmw_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/leaktest"
	"github.com/perfobs/perfobs-go/middleware"
	"github.com/perfobs/perfobs-go/middleware/grpcmw"
)

func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }

// Commands the test server understands in the request payload's body.
const (
	cmdPanic = "panic" // panic in the handler
	cmdWait  = "wait"  // block until the call's context ends, then return its error
	cmdSleep = "sleep" // sleep slowCall, then answer
	cmdWrap  = "wrap"  // return the requested status wrapped in another error
	cmdPlain = "plain" // return a plain (non-status) error
	// cmdDeadline returns the error of a context whose deadline passed (a backend call timing out)
	cmdDeadline = "deadline"
)

const slowCall = 30 * time.Millisecond

// testServer is a small implementation of the interop TestService.
type testServer struct {
	testpb.UnimplementedTestServiceServer
}

func body(p *testpb.Payload) string {
	if p == nil {
		return ""
	}
	return string(p.Body)
}

// statusErr returns the error a request asks for, nil for none.
func statusErr(s *testpb.EchoStatus, cmd string) error {
	if cmd == cmdPlain {
		return errors.New("plain failure")
	}
	if s == nil || s.Code == 0 {
		return nil
	}
	err := status.Error(codes.Code(s.Code), s.Message)
	if cmd == cmdWrap {
		return fmt.Errorf("looking it up: %w", err)
	}
	return err
}

func (testServer) EmptyCall(context.Context, *testpb.Empty) (*testpb.Empty, error) {
	return &testpb.Empty{}, nil
}

func (testServer) UnaryCall(ctx context.Context, req *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	cmd := body(req.Payload)
	switch cmd {
	case cmdPanic:
		panic("test handler panics")
	case cmdWait:
		<-ctx.Done()
		return nil, ctx.Err()
	case cmdSleep:
		time.Sleep(slowCall)
	case cmdDeadline:
		backend, cancel := context.WithTimeout(ctx, time.Millisecond)
		defer cancel()
		<-backend.Done()
		return nil, fmt.Errorf("backend: %w", backend.Err())
	}
	if err := statusErr(req.ResponseStatus, cmd); err != nil {
		return nil, err
	}
	return &testpb.SimpleResponse{Payload: &testpb.Payload{Body: make([]byte, req.ResponseSize)}}, nil
}

func (testServer) StreamingOutputCall(req *testpb.StreamingOutputCallRequest, stream grpc.ServerStreamingServer[testpb.StreamingOutputCallResponse]) error {
	for _, p := range req.ResponseParameters {
		time.Sleep(time.Duration(p.IntervalUs) * time.Microsecond)
		if err := stream.Send(&testpb.StreamingOutputCallResponse{Payload: &testpb.Payload{Body: make([]byte, p.Size)}}); err != nil {
			return err
		}
	}
	if body(req.Payload) == cmdWait {
		<-stream.Context().Done()
		return stream.Context().Err()
	}
	return statusErr(req.ResponseStatus, body(req.Payload))
}

func (testServer) StreamingInputCall(stream grpc.ClientStreamingServer[testpb.StreamingInputCallRequest, testpb.StreamingInputCallResponse]) error {
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

func (testServer) FullDuplexCall(stream grpc.BidiStreamingServer[testpb.StreamingOutputCallRequest, testpb.StreamingOutputCallResponse]) error {
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

// network is a way to connect a client to a server.
type network struct {
	name   string
	listen func(t *testing.T) (net.Listener, string, []grpc.DialOption)
}

var networks = []network{
	{"tcp", func(t *testing.T) (net.Listener, string, []grpc.DialOption) {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		return lis, lis.Addr().String(), nil
	}},
	{"bufconn", func(*testing.T) (net.Listener, string, []grpc.DialOption) {
		lis := bufconn.Listen(1 << 20)
		return lis, "passthrough:///bufconn", []grpc.DialOption{
			grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		}
	}},
}

// env is a running test server and a client connected to it.
type env struct {
	reg    *prometheus.Registry
	client testpb.TestServiceClient
	conn   *grpc.ClientConn
}

// setup starts a TestService server on nw and connects a client. Both are instrumented on one
// registry unless their options say otherwise; extra server and dial options come first.
type setup struct {
	opts       []middleware.Option // of both sides' Recorders, after WithRegisterer
	serverOpts []grpc.ServerOption // before the Recorder's
	innerOpts  []grpc.ServerOption // after the Recorder's: their interceptors run inside it
	dialOpts   []grpc.DialOption
	bareServer bool // no perfobs server options
	bareClient bool // no perfobs dial options
	register   func(*grpc.Server)
}

func start(t *testing.T, nw network, s setup) *env {
	t.Helper()
	reg := prometheus.NewRegistry()
	rec, err := grpcmw.New(append([]middleware.Option{middleware.WithRegisterer(reg)}, s.opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	sopts := s.serverOpts
	if !s.bareServer {
		sopts = append(sopts, grpcmw.ServerOptions(rec)...)
	}
	sopts = append(sopts, s.innerOpts...)
	srv := grpc.NewServer(sopts...)
	testpb.RegisterTestServiceServer(srv, testServer{})
	if s.register != nil {
		s.register(srv)
	}
	lis, target, dopts := nw.listen(t)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()

	dopts = append(dopts, grpc.WithTransportCredentials(insecure.NewCredentials()))
	dopts = append(dopts, s.dialOpts...)
	if !s.bareClient {
		dopts = append(dopts, grpcmw.DialOptions(rec)...)
	}
	conn, err := grpc.NewClient(target, dopts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		srv.Stop()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return &env{reg: reg, client: testpb.NewTestServiceClient(conn), conn: conn}
}

// hist is one histogram series as gathered.
type hist struct {
	count   uint64
	sum     float64
	buckets []*dto.Bucket
}

// series gathers the histogram family name and returns its series keyed by their label values
// after rpc_system_name, joined by "|": "method|status|error_type" for the RPC labels, "method"
// for the size labels. It fails the test when rpc_system_name is not "grpc".
func series(t *testing.T, g prometheus.Gatherer, name string) map[string]hist {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]hist{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			var vals []string
			for _, l := range m.GetLabel() {
				if l.GetName() == catalog.LabelRPCSystem {
					if l.GetValue() != catalog.RPCSystemGRPC {
						t.Errorf("%s: %s=%q, want %q", name, catalog.LabelRPCSystem, l.GetValue(), catalog.RPCSystemGRPC)
					}
					continue
				}
				vals = append(vals, l.GetValue())
			}
			// Gather sorts labels by name: error_type, rpc_method, rpc_response_status_code.
			if len(vals) == 3 {
				vals = []string{vals[1], vals[2], vals[0]}
			}
			h := m.GetHistogram()
			out[strings.Join(vals, "|")] = hist{h.GetSampleCount(), h.GetSampleSum(), h.GetBucket()}
		}
	}
	return out
}

// keys returns the sorted keys of a series map, for failure messages.
func keys(m map[string]hist) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}

// waitSeries polls until the family name holds at least one observation, and returns it. Servers
// record after the client got its answer, so tests wait for them.
func waitSeries(t *testing.T, g prometheus.Gatherer, name string) map[string]hist {
	t.Helper()
	// A series exists from the moment it is created, just before its first observation lands:
	// wait for an observation, not only for the series.
	return waitTotal(t, g, name, 1)
}

// waitTotal polls until the series of family name hold n observations in all, and returns them.
func waitTotal(t *testing.T, g prometheus.Gatherer, name string, n uint64) map[string]hist {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s := series(t, g, name)
		var total uint64
		for _, h := range s {
			total += h.count
		}
		if total >= n || time.Now().After(deadline) {
			return s
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// wantOne checks that the family name has exactly the series key, with count observations.
func wantOne(t *testing.T, s map[string]hist, name, key string, count uint64) hist {
	t.Helper()
	h, ok := s[key]
	if !ok || len(s) != 1 || h.count != count {
		t.Errorf("%s: series %v (count %d), want only %q with count %d", name, keys(s), h.count, key, count)
	}
	return h
}
