package canary_test

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"

	"github.com/perfobs/perfobs-go/middleware/grpcmw"
	"github.com/perfobs/perfobs-go/perfobs"
)

// The service under test runs in child processes (this test binary, re-executed), one per
// instance, so that each has its own runtime and process metrics, as real replicas do.

const serviceEnv = "PERFOBS_CANARY_E2E_SERVICE"

// version is one build of the service: its version string and its behaviour.
type version struct {
	Version string
	// P99Factor multiplies the p99 of POST /orders, median unchanged (a heavier tail).
	P99Factor float64
	// RPCErrorRatio is the share of UnaryCall RPCs that fail (default 0.1%).
	RPCErrorRatio float64
}

func (v version) env() []string {
	return []string{serviceEnv + "=1", "CANARY_VERSION=" + v.Version,
		"CANARY_P99_FACTOR=" + strconv.FormatFloat(v.P99Factor, 'g', -1, 64),
		"CANARY_RPC_ERRORS=" + strconv.FormatFloat(v.RPCErrorRatio, 'g', -1, 64),
		"OTEL_SDK_DISABLED=", "OTEL_EXPORTER_OTLP_ENDPOINT=", "PYROSCOPE_SERVER_ADDRESS="}
}

// instance is a running child: its HTTP address (which also serves /metrics) and gRPC address.
type instance struct {
	HTTP, GRPC string
}

// startInstance runs the service as a child process and stops it when the test ends.
func startInstance(t *testing.T, v version) instance {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), v.env()...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close() // the child exits when its stdin closes
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("service %s did not start: %v", v.Version, err)
	}
	var in instance
	if _, err := fmt.Sscanf(line, "LISTEN %s %s", &in.HTTP, &in.GRPC); err != nil {
		t.Fatalf("service %s: bad first line %q: %v", v.Version, line, err)
	}
	return in
}

// serveMain is the child: an HTTP and a gRPC service instrumented by the facade, with tracing on
// (so that latency buckets carry exemplars). It runs until its stdin closes.
func serveMain() int {
	f := func(k string) float64 {
		x, _ := strconv.ParseFloat(os.Getenv(k), 64)
		return x
	}
	p99, rpcErr := f("CANARY_P99_FACTOR"), f("CANARY_RPC_ERRORS")
	if p99 == 0 {
		p99 = 1
	}
	if rpcErr == 0 {
		rpcErr = 0.001
	}
	ctx := context.Background()
	tp := sdktrace.NewTracerProvider() // samples every request; no exporter
	defer tp.Shutdown(ctx)
	obs, err := perfobs.Start(ctx, perfobs.Config{Service: "checkout", Version: os.Getenv("CANARY_VERSION"), TracerProvider: tp})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer obs.Shutdown(ctx)

	// POST /orders: log-normal, median 20 ms, sigma 0.5 (p99 64 ms); the canary's sigma grows
	// so that its p99 is P99Factor times that. Every handler takes at least a few milliseconds:
	// the tail of a 2 ms handler on a shared 2-core runner is the scheduler's, and it differs
	// between two processes (measured: 3 false fails in 20 real A/A judgements, all on a 2 ms RPC).
	// The same sigma for every handler: a natural tail as wide as the scheduler's delays keeps
	// those delays from dominating the slow fractions compared (with sigma 0.3, a -race A/A run on
	// a runner at load 16 failed on the RPC: 0.8% -> 2.5% slower than 50 ms).
	sigma := 0.5 + math.Log(p99)/2.3263478740408408
	app := http.NewServeMux()
	app.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Duration(20e6 * math.Exp(sigma*rand.NormFloat64())))
		w.WriteHeader(http.StatusCreated)
	})
	app.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Duration(10e6 * math.Exp(0.5*rand.NormFloat64())))
		fmt.Fprintln(w, r.PathValue("id"))
	})
	top := http.NewServeMux()
	top.Handle("GET /metrics", obs.MetricsHandler())
	top.Handle("/", obs.HTTP(app))
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	gl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	srv := &http.Server{Handler: top, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(hl)
	g := grpc.NewServer(grpc.ChainUnaryInterceptor(grpcmw.UnaryServerInterceptor(obs.MiddlewareOptions()...)))
	testpb.RegisterTestServiceServer(g, rpcServer{errRatio: rpcErr})
	go g.Serve(gl)
	fmt.Printf("LISTEN %s %s\n", hl.Addr(), gl.Addr())
	bufio.NewReader(os.Stdin).ReadString('\n') // EOF when the parent closes it or dies
	g.Stop()
	sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	return 0
}

type rpcServer struct {
	testpb.UnimplementedTestServiceServer
	errRatio float64
}

func (s rpcServer) UnaryCall(ctx context.Context, req *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	time.Sleep(time.Duration(15e6 * math.Exp(0.5*rand.NormFloat64())))
	if rand.Float64() < s.errRatio {
		return nil, status.Error(codes.Internal, "injected")
	}
	return &testpb.SimpleResponse{}, nil
}
