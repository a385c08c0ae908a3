package grpcmw_test

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc"
	testpb "google.golang.org/grpc/interop/grpc_testing"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/internal/testkit/grpctest"
	"github.com/perfobs/perfobs-go/leaktest"
	"github.com/perfobs/perfobs-go/middleware"
	"github.com/perfobs/perfobs-go/middleware/grpcmw"
)

func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }

// The test server is the project's one gRPC test service (internal/testkit/grpctest); these are
// the payload commands it understands.
const (
	cmdPanic    = grpctest.Panic
	cmdWait     = grpctest.Wait
	cmdSleep    = grpctest.Sleep
	cmdWrap     = grpctest.Wrap
	cmdPlain    = grpctest.Plain
	cmdDeadline = grpctest.Deadline
	slowCall    = grpctest.SlowCall
)

// networks are the ways a client reaches the server: TCP on loopback and bufconn.
var networks = grpctest.Networks

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

func start(t *testing.T, nw grpctest.Network, s setup) *env {
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
	dopts := s.dialOpts
	if !s.bareClient {
		dopts = append(dopts, grpcmw.DialOptions(rec)...)
	}
	srv := grpctest.Start(t, grpctest.Config{Network: nw, Server: sopts, Dial: dopts, Register: s.register})
	return &env{reg: reg, client: srv.Client, conn: srv.Conn}
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
