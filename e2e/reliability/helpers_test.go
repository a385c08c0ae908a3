package reliability

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc"
	testpb "google.golang.org/grpc/interop/grpc_testing"

	"github.com/perfobs/perfobs-go/internal/testkit/grpctest"
	"github.com/perfobs/perfobs-go/leaktest"
	"github.com/perfobs/perfobs-go/middleware"
	"github.com/perfobs/perfobs-go/middleware/grpcmw"
	"github.com/perfobs/perfobs-go/perfobs"
)

// Sizes of the tests. The defaults keep the normal run short; the tagged long run and .ci/extra
// pass their own.
var (
	flagAttack     = flag.Int("attack", defaultAttack, "HTTP requests with random paths, methods and statuses in the cardinality attack")
	flagGRPCAttack = flag.Int("grpc-attack", defaultGRPCAttack, "gRPC calls with random method names in the cardinality attack")
	flagWorkers    = flag.Int("workers", defaultWorkers, "goroutines of the concurrency test, each with a new route")
	flagCycles     = flag.Int("cycles", defaultCycles, "Start/Shutdown cycles with every feature on")
	flagOutage     = flag.Duration("outage", defaultOutage, "load duration of each phase of the outage test")
	flagRate       = flag.Int("rate", 400, "requests per second of the outage test's load")
)

func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }

// quietLogger drops the SDK's log lines (tests that read them make their own).
func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// noEnv is a LookupEnv that sees an empty environment, so the developer's OTEL_* and PYROSCOPE_*
// variables cannot change a test.
func noEnv(string) (string, bool) { return "", false }

// liveHeap returns the bytes of live heap objects after a full GC, from runtime/metrics (never
// ReadMemStats, which stops the world).
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// ingest is a fake Pyroscope ingest server on loopback that accepts every upload.
type ingest struct {
	*httptest.Server
	uploads atomic.Int64
}

func newIngest(t testing.TB) *ingest {
	in := &ingest{}
	in.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.URL.Path == "/ingest" {
			in.uploads.Add(1)
		}
	}))
	t.Cleanup(in.Close)
	return in
}

// family returns the metric family name from g, or nil.
func family(t testing.TB, g prometheus.Gatherer, name string) *dto.MetricFamily {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf
		}
	}
	return nil
}

// labels returns a metric's labels as a map.
func labels(m *dto.Metric) map[string]string {
	out := make(map[string]string, len(m.GetLabel()))
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

// matches reports whether m has every label of want.
func matches(m *dto.Metric, want map[string]string) bool {
	got := labels(m)
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

// histCount sums the sample counts of the histogram series of name that carry want's labels,
// and returns the sum of their sums too.
func histCount(t testing.TB, g prometheus.Gatherer, name string, want map[string]string) (count uint64, sum float64) {
	t.Helper()
	mf := family(t, g, name)
	if mf == nil {
		return 0, 0
	}
	for _, m := range mf.GetMetric() {
		if matches(m, want) {
			count += m.GetHistogram().GetSampleCount()
			sum += m.GetHistogram().GetSampleSum()
		}
	}
	return count, sum
}

// counterValue sums the counter series of name that carry want's labels.
func counterValue(t testing.TB, g prometheus.Gatherer, name string, want map[string]string) float64 {
	t.Helper()
	mf := family(t, g, name)
	if mf == nil {
		return 0
	}
	var v float64
	for _, m := range mf.GetMetric() {
		if matches(m, want) {
			v += m.GetCounter().GetValue()
		}
	}
	return v
}

// panicDelay is how long a panicking handler works before it panics, so the recorded latency
// can be checked.
const panicDelay = 20 * time.Millisecond

// errHandlerPanic is what the handlers panic with, the gRPC test service's included.
var errHandlerPanic = grpctest.ErrPanic

// testService is the gRPC test service of these tests: UnaryCall panics when the payload says "panic".
func testService() *grpctest.Service { return &grpctest.Service{PanicDelay: panicDelay} }

// grpcPair is a gRPC server on loopback TCP and a client connected to it, both instrumented.
type grpcPair struct {
	srv  *grpc.Server
	conn *grpc.ClientConn
	test testpb.TestServiceClient
}

// startGRPC starts a server with rec's server options (after extra, so a recovery interceptor
// in extra sees the panic after grpcmw recorded it) and a client with rec's dial options.
func startGRPC(t testing.TB, rec *grpcmw.Recorder, extra ...grpc.ServerOption) *grpcPair {
	t.Helper()
	opts := append(extra, grpcmw.ServerOptions(rec)...)
	opts = append(opts, grpc.UnknownServiceHandler(grpctest.UnknownMethod))
	s := grpctest.Start(t, grpctest.Config{Service: testService(), Server: opts, Dial: grpcmw.DialOptions(rec)})
	return &grpcPair{srv: s.Server, conn: s.Conn, test: s.Client}
}

// grpcRecorder makes the gRPC recorder of obs.
func grpcRecorder(t testing.TB, obs *perfobs.Observer, extra ...middleware.Option) *grpcmw.Recorder {
	t.Helper()
	rec, err := grpcmw.New(append(obs.MiddlewareOptions(), extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// shutdown shuts obs down within a generous bound and fails the test on error.
func shutdown(t testing.TB, obs *perfobs.Observer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := obs.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}
