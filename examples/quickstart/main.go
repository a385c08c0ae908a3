// Command quickstart is an instrumented HTTP and gRPC service that drives its own load and prints
// a live RED summary read from the SDK's own histograms:
//
//	go run ./examples/quickstart
//
// It listens on 127.0.0.1:8080 (-addr) with a few realistic routes and on 127.0.0.1:18090
// (-grpc-addr) with gRPC's test service, serves /metrics for Prometheus, sends itself a steady
// load (-load=false turns it off) and prints, every -every, the request rate, error percentage
// and p50/p95/p99 latency per route and gRPC method. Its status page, pprof and the JSON API
// (Observer.DebugHandler) are on a private listener of their own, 127.0.0.1:18091 (-debug-addr),
// whose URL it prints. None of its ports is a common tool's default (Prometheus has 9090,
// Pushgateway 9091, Alertmanager 9093). Ctrl-C shuts it down cleanly; -duration stops it after
// a while.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/perfobs/perfobs-go/middleware"
	"github.com/perfobs/perfobs-go/perfobs"
)

type options struct {
	addr      string
	grpcAddr  string
	debugAddr string
	load      bool
	rate      int
	every     time.Duration
	duration  time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.addr, "addr", "127.0.0.1:8080", "HTTP listen address")
	flag.StringVar(&o.grpcAddr, "grpc-addr", "127.0.0.1:18090", "gRPC listen address")
	flag.StringVar(&o.debugAddr, "debug-addr", "127.0.0.1:18091", "private listen address of the status page and pprof (keep it off public networks)")
	flag.BoolVar(&o.load, "load", true, "drive built-in load against the service")
	flag.IntVar(&o.rate, "rate", 200, "built-in load, requests per second")
	flag.DurationVar(&o.every, "every", 5*time.Second, "how often to print the summary")
	flag.DurationVar(&o.duration, "duration", 0, "stop after this long (0: run until Ctrl-C)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, out io.Writer) error {
	if o.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.duration)
		defer cancel()
	}
	obs, err := perfobs.Start(ctx, perfobs.Config{
		Service: "quickstart", Version: "1.0.0", Environment: "dev",
		Middleware: []middleware.Option{middleware.WithSkipPaths("/healthz", "/metrics")},
	})
	if err != nil {
		return err
	}
	defer obs.Shutdown(context.Background())

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: obs.HTTP(routes(obs)), ReadHeaderTimeout: 5 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(out, "quickstart: serving on %s (metrics at %s/metrics)\n", base, base)

	// The status page and pprof go on a listener of their own, never on the service's mux.
	debugLn, err := net.Listen("tcp", o.debugAddr)
	if err != nil {
		srv.Close()
		return err
	}
	debugSrv := &http.Server{Handler: obs.DebugHandler(), ReadHeaderTimeout: 5 * time.Second}
	debugErr := make(chan error, 1)
	go func() { debugErr <- debugSrv.Serve(debugLn) }()
	defer debugSrv.Close() // the normal path below shuts it down first
	fmt.Fprintf(out, "quickstart: status page at http://%s/debug/perfobs/ (private listener; pprof under /debug/pprof/)\n", debugLn.Addr())

	var wg sync.WaitGroup
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	if o.load {
		wg.Add(1)
		go func() { defer wg.Done(); drive(loadCtx, base, o.rate) }()
	}

	stopGRPC, err := startGRPC(loadCtx, o.grpcAddr, obs.MiddlewareOptions(), o.load, o.rate/4, out)
	if err != nil {
		srv.Close()
		return err
	}
	defer stopGRPC() // idempotent: the normal path below stops it first

	sum := newSummary(obs.Gatherer())
	tick := time.NewTicker(o.every)
	defer tick.Stop()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case err := <-serveErr:
			return err
		case err := <-debugErr:
			return err
		case <-tick.C:
			if err := sum.print(out); err != nil {
				return err
			}
		}
	}
	stopLoad()
	wg.Wait()
	stopGRPC()
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return err
	}
	if err := debugSrv.Shutdown(shutCtx); err != nil {
		return err
	}
	if err := <-debugErr; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	fmt.Fprintln(out, "quickstart: stopped cleanly")
	return obs.Shutdown(shutCtx)
}

// routes is the service: a user lookup with a path parameter, an order endpoint that sometimes
// fails, a checkout that is sometimes slow, and the operational endpoints.
func routes(obs *perfobs.Observer) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.Atoi(r.PathValue("id"))
		if err != nil || id > 900 {
			http.Error(w, "no such user", http.StatusNotFound)
			return
		}
		time.Sleep(time.Duration(1+rand.IntN(4)) * time.Millisecond)
		fmt.Fprintf(w, `{"id":%d}`, id)
	})
	mux.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		time.Sleep(time.Duration(5+rand.IntN(20)) * time.Millisecond)
		if rand.IntN(100) < 5 { // the payment backend fails now and then
			http.Error(w, "payment backend unavailable", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusCreated)
	})
	mux.HandleFunc("GET /checkout", func(w http.ResponseWriter, r *http.Request) {
		d := 20 * time.Millisecond
		if rand.IntN(10) == 0 {
			d = time.Duration(300+rand.IntN(700)) * time.Millisecond // a slow dependency
		}
		time.Sleep(d)
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.Handle("GET /metrics", obs.MetricsHandler())
	return mux
}

// drive sends rate HTTP requests per second, spread over the routes, until ctx is done.
func drive(ctx context.Context, base string, rate int) {
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer client.CloseIdleConnections()
	openLoop(ctx, rate, func() { send(ctx, client, base) })
}

// openLoop calls fn rate times per second, each in its own goroutine, until ctx is done, and
// waits for the calls in flight. It is open model: calls start on schedule whether or not earlier
// ones finished; past 256 in flight a tick is skipped rather than queued (the summary shows the
// slowness).
func openLoop(ctx context.Context, rate int, fn func()) {
	if rate <= 0 {
		return
	}
	inflight := make(chan struct{}, 256)
	var wg sync.WaitGroup
	defer wg.Wait()
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		select {
		case inflight <- struct{}{}:
		default:
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-inflight }()
			fn()
		}()
	}
}

func send(ctx context.Context, client *http.Client, base string) {
	method, path := "GET", "/users/"+strconv.Itoa(rand.IntN(1000))
	switch n := rand.IntN(10); {
	case n < 3:
		method, path = "POST", "/orders"
	case n < 4:
		path = "/checkout"
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, nil)
	if err != nil {
		return
	}
	resp, err := client.Do(req)
	if err != nil {
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}
