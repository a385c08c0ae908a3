package reliability

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	testpb "google.golang.org/grpc/interop/grpc_testing"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/leaktest"
	"github.com/perfobs/perfobs-go/middleware/grpcmw"
	"github.com/perfobs/perfobs-go/perfobs"
)

// app is a service instrumented by one Observer: an HTTP server behind obs.HTTP with a client
// on obs.Transport, and a gRPC server and client with grpcmw's interceptors and stats handlers.
type app struct {
	http       *httptest.Server
	httpClient *http.Client
	grpcSrv    *grpc.Server
	grpcConn   *grpc.ClientConn
	grpcDone   chan struct{}
	test       testpb.TestServiceClient
}

func startApp(obs *perfobs.Observer) (*app, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, r.PathValue("id")) })
	mux.Handle("GET /metrics", obs.MetricsHandler())
	a := &app{http: httptest.NewServer(obs.HTTP(mux))}
	a.httpClient = &http.Client{Transport: obs.Transport(a.http.Client().Transport)}
	rec, err := grpcmw.New(obs.MiddlewareOptions()...)
	if err != nil {
		a.close()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		a.close()
		return nil, err
	}
	a.grpcSrv = grpc.NewServer(grpcmw.ServerOptions(rec)...)
	testpb.RegisterTestServiceServer(a.grpcSrv, testService())
	a.grpcDone = make(chan struct{})
	go func() { defer close(a.grpcDone); _ = a.grpcSrv.Serve(ln) }()
	a.grpcConn, err = grpc.NewClient(ln.Addr().String(),
		append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, grpcmw.DialOptions(rec)...)...)
	if err != nil {
		a.close()
		return nil, err
	}
	a.test = testpb.NewTestServiceClient(a.grpcConn)
	return a, nil
}

// drive sends n HTTP requests and n gRPC calls and checks their answers.
func (a *app) drive(n int) error {
	for i := range n {
		resp, err := a.httpClient.Get(fmt.Sprintf("%s/items/%d", a.http.URL, i))
		if err != nil {
			return err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || string(body) != fmt.Sprint(i) {
			return fmt.Errorf("GET /items/%d: %d %q %v", i, resp.StatusCode, body, err)
		}
		if _, err := a.test.EmptyCall(context.Background(), &testpb.Empty{}); err != nil {
			return fmt.Errorf("EmptyCall: %w", err)
		}
	}
	return nil
}

func (a *app) close() {
	if a.grpcConn != nil {
		a.grpcConn.Close()
	}
	if a.grpcSrv != nil {
		a.grpcSrv.Stop()
		<-a.grpcDone
	}
	if a.httpClient != nil {
		a.httpClient.CloseIdleConnections()
	}
	a.http.Close()
}

// TestSDKLeaksNothing starts the facade with every feature on (HTTP and gRPC middleware on real
// servers and clients, runtime metrics, profiling to a loopback ingest server, tracing and the
// OTLP metrics push to a loopback receiver), drives traffic and shuts everything down: every
// backend got data, and no goroutine is left once the test ends.
func TestSDKLeaksNothing(t *testing.T) {
	leaktest.Check(t)
	runEveryFeature(t, newIngest(t), newOTLPReceiver(t))
}

// runEveryFeature runs the every-feature service of TestSDKLeaksNothing against the backends and
// returns once the Observer is shut down, the backends still serving.
func runEveryFeature(t *testing.T, ingest *ingest, otlp *otlpReceiver) {

	obs, err := perfobs.Start(context.Background(), everyFeature("leaks", ingest.URL, otlp.URL))
	if err != nil {
		t.Fatal(err)
	}
	a, err := startApp(obs)
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	if err := a.drive(n); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // one profiling upload and one metrics push while running
	a.close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := obs.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}

	if got := ingest.uploads.Load(); got == 0 {
		t.Error("the ingest server received no profile")
	}
	// Each HTTP request and gRPC call makes a server span and a client span.
	if got := otlp.spans.Load(); got < 4*n {
		t.Errorf("the OTLP receiver got %d spans, want at least %d", got, 4*n)
	}
	if got := otlp.metricExports.Load(); got == 0 {
		t.Error("the OTLP receiver got no metrics export")
	}
	if got := otlp.bad.Load(); got != 0 {
		t.Errorf("the OTLP receiver got %d requests it could not decode", got)
	}
	if c, _ := histCount(t, obs.Gatherer(), catalog.HTTPServerDuration, map[string]string{catalog.LabelRoute: "/items/{id}"}); c != n {
		t.Errorf("recorded %d HTTP requests, want %d", c, n)
	}
}

// TestSDKClosesItsConnectionsOnShutdown is TestSDKLeaksNothing with the leak check made while the
// backends still serve: a keep-alive connection the SDK leaves open to one of them (its
// goroutines end only when the backend hangs up) is a leak too.
// The OTLP exporters' own Shutdown drops their http.Client without closing its idle connections:
// perfobs gives them clients of its own and closes those.
func TestSDKClosesItsConnectionsOnShutdown(t *testing.T) {
	leaktest.Check(t)
	ingest, otlp := newIngest(t), newOTLPReceiver(t)
	before := leaktest.IgnoreCurrent() // the backends' own goroutines
	runEveryFeature(t, ingest, otlp)
	if err := leaktest.Find(before); err != nil {
		t.Errorf("after Shutdown, with the backends still up:\n%v", err)
	}
}

// TestStartShutdownCycles starts and shuts down the facade -cycles times (10 in the normal run,
// 1,000 with -tags reliability) with every feature on, each time with a real HTTP and gRPC server
// and client and some traffic. After them the goroutine count is back to where it was, leaktest
// finds nothing, and the live heap grew less than 1 MiB.
func TestStartShutdownCycles(t *testing.T) {
	leaktest.Check(t)
	ingest, otlp := newIngest(t), newOTLPReceiver(t)
	cycle := func(i int) {
		t.Helper()
		obs, err := perfobs.Start(context.Background(), everyFeature("cycles", ingest.URL, otlp.URL))
		if err != nil {
			t.Fatalf("cycle %d: Start: %v", i, err)
		}
		a, err := startApp(obs)
		if err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
		err = a.drive(2)
		a.close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if serr := obs.Shutdown(ctx); serr != nil {
			t.Fatalf("cycle %d: Shutdown: %v", i, serr)
		}
		if err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
	}
	// Warm up: the first cycle fills process-wide caches (gRPC's and OpenTelemetry's
	// registries, the runtime's profiling buckets) that later cycles reuse.
	cycle(-2)
	cycle(-1)
	goroutines, heap := settledGoroutines(0), liveHeap()
	start := time.Now()
	n := *flagCycles
	for i := range n {
		cycle(i)
	}
	perCycle := time.Since(start) / time.Duration(max(n, 1))
	after := settledGoroutines(goroutines)
	grown := int64(liveHeap()) - int64(heap)
	t.Logf("%d cycles, %v each: goroutines %d -> %d, live heap %d B -> %+d B; %d profiles and %d spans received",
		n, perCycle, goroutines, after, heap, grown, ingest.uploads.Load(), otlp.spans.Load())
	if after > goroutines {
		t.Errorf("goroutines: %d after %d cycles, %d before", after, n, goroutines)
	}
	if grown >= 1<<20 {
		t.Errorf("live heap grew %d B over %d cycles, want < 1 MiB", grown, n)
	}
	if otlp.spans.Load() == 0 || ingest.uploads.Load() == 0 {
		t.Error("the cycles sent no span or no profile: not every feature was on")
	}
}

// settledGoroutines returns the goroutine count once it is at most want, or after 5 s of
// waiting for goroutines that are ending (connections closing, timers firing) to end.
func settledGoroutines(want int) int {
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if (want > 0 && n <= want) || time.Now().After(deadline) {
			return n
		}
		if want == 0 {
			// A baseline: wait for a count that holds still for 100 ms.
			time.Sleep(100 * time.Millisecond)
			if runtime.NumGoroutine() == n {
				return n
			}
			continue
		}
		time.Sleep(10 * time.Millisecond)
	}
}
