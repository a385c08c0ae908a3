// Command profcost measures what continuous profiling costs a service: CPU seconds per request
// under the same fixed load with profiling off and on, with a small heap and with a large live
// heap (a tiny heap hides what heap profiling and forced GCs cost).
//
//	cd bench && go run ./profcost                       # 45 s per run, 200 req/s, heaps 0 and 256 MiB
//	cd bench && go run ./profcost -duration 60s -rounds 2
//
// Each run starts the service as a child process (this binary with -child): perfobs.Start with
// the quickstart's routes and a live heap of -heap-mib MiB, profiling to a local stand-in for
// Pyroscope's ingest endpoint (which only reads and discards uploads, in this parent process). The
// parent drives an open-model load at -rate requests per second, warms up, then reads the child's
// own CPU time (getrusage, user + system) before and after a -duration window and divides by the
// requests completed in it. Modes:
//
//	off      PYROSCOPE_SERVER_ADDRESS unset: profiling off
//	on       profiling at default settings (CPU, heap, goroutines; 15 s uploads; no forced GC)
//	forcegc  as on, plus ForceGC (pyroscope-go's default without DisableGCRuns)
//
// The runs of one round are interleaved (off, on, forcegc for each heap) so that drift in the
// machine's load spreads across modes. The output is a table with each mode's ratio to off.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/perfobs/perfobs-go/perfobs"
)

func main() {
	var (
		child    = flag.Bool("child", false, "run as the measured service (internal)")
		heapMiB  = flag.String("heap-mib", "0,256", "live heap sizes in MiB, comma-separated")
		modes    = flag.String("modes", "off,on,forcegc", "profiling modes, comma-separated")
		rate     = flag.Int("rate", 200, "load, requests per second")
		warmup   = flag.Duration("warmup", 5*time.Second, "load before the measured window")
		duration = flag.Duration("duration", 45*time.Second, "measured window per run")
		rounds   = flag.Int("rounds", 1, "rounds of interleaved runs")
	)
	flag.Parse()
	if *child {
		mib, _ := strconv.Atoi(*heapMiB)
		if err := runChild(mib); err != nil {
			fmt.Fprintln(os.Stderr, "profcost child:", err)
			os.Exit(1)
		}
		return
	}
	if err := runParent(*heapMiB, *modes, *rate, *warmup, *duration, *rounds, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "profcost:", err)
		os.Exit(1)
	}
}

type result struct {
	heapMiB  int
	mode     string
	requests int64
	errors   int64
	cpu      time.Duration
	uploads  int64
}

func (r result) perRequest() time.Duration {
	if r.requests == 0 {
		return 0
	}
	return r.cpu / time.Duration(r.requests)
}

func runParent(heaps, modes string, rate int, warmup, duration time.Duration, rounds int, out io.Writer) error {
	var uploads atomic.Int64
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		uploads.Add(1)
	}))
	defer sink.Close()

	var results []result
	for round := 1; round <= rounds; round++ {
		for _, h := range strings.Split(heaps, ",") {
			mib, err := strconv.Atoi(strings.TrimSpace(h))
			if err != nil || mib < 0 {
				return fmt.Errorf("-heap-mib %q: want non-negative integers", heaps)
			}
			for _, mode := range strings.Split(modes, ",") {
				mode = strings.TrimSpace(mode)
				before := uploads.Load()
				r, err := measure(mib, mode, sink.URL, rate, warmup, duration)
				if err != nil {
					return fmt.Errorf("round %d, heap %d MiB, mode %s: %w", round, mib, mode, err)
				}
				r.uploads = uploads.Load() - before
				fmt.Fprintf(out, "round %d heap %4d MiB %-8s %7d req %5d err  cpu %8.3fs  %7.1f µs/req  uploads %d\n",
					round, mib, mode, r.requests, r.errors, r.cpu.Seconds(), float64(r.perRequest().Nanoseconds())/1e3, r.uploads)
				results = append(results, r)
			}
		}
	}

	// Sum over rounds, then compare each mode with off at the same heap.
	type key struct {
		heap int
		mode string
	}
	sum := map[key]*result{}
	var order []key
	for _, r := range results {
		k := key{r.heapMiB, r.mode}
		if sum[k] == nil {
			sum[k] = &result{heapMiB: r.heapMiB, mode: r.mode}
			order = append(order, k)
		}
		sum[k].requests += r.requests
		sum[k].errors += r.errors
		sum[k].cpu += r.cpu
		sum[k].uploads += r.uploads
	}
	fmt.Fprintf(out, "\n%s, GOMAXPROCS %d, %d req/s, %v per run, %d round(s)\n", runtime.Version(), runtime.GOMAXPROCS(0), rate, duration, rounds)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "heap MiB\tmode\trequests\tCPU s\tCPU µs/req\tvs off\tuploads\t")
	for _, k := range order {
		r := sum[k]
		ratio := "-"
		if off := sum[key{k.heap, "off"}]; off != nil && off.perRequest() > 0 {
			ratio = fmt.Sprintf("%.3f", float64(r.perRequest())/float64(off.perRequest()))
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%.3f\t%.1f\t%s\t%d\t\n", r.heapMiB, r.mode, r.requests, r.cpu.Seconds(),
			float64(r.perRequest().Nanoseconds())/1e3, ratio, r.uploads)
	}
	return tw.Flush()
}

// measure runs one child and returns its CPU time and the requests completed in the window.
func measure(heapMiB int, mode, sinkURL string, rate int, warmup, duration time.Duration) (result, error) {
	self, err := os.Executable()
	if err != nil {
		return result{}, err
	}
	cmd := exec.Command(self, "-child", "-heap-mib", strconv.Itoa(heapMiB))
	cmd.Env = slicesWithout(os.Environ(), "PYROSCOPE_")
	switch mode {
	case "off":
	case "on":
		cmd.Env = append(cmd.Env, "PYROSCOPE_SERVER_ADDRESS="+sinkURL)
	case "forcegc":
		cmd.Env = append(cmd.Env, "PYROSCOPE_SERVER_ADDRESS="+sinkURL, "PROFCOST_FORCE_GC=1")
	default:
		return result{}, fmt.Errorf("unknown mode %q (want off, on or forcegc)", mode)
	}
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return result{}, err
	}
	if err := cmd.Start(); err != nil {
		return result{}, err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		return result{}, fmt.Errorf("child did not start: %w", err)
	}
	base, ok := strings.CutPrefix(strings.TrimSpace(line), "ready ")
	if !ok {
		return result{}, fmt.Errorf("child said %q", line)
	}

	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	defer client.CloseIdleConnections()
	var counting atomic.Bool
	var done, failed atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { drive(ctx, client, base, rate, &counting, &done, &failed) })

	time.Sleep(warmup)
	cpu0, err := childCPU(client, base)
	if err != nil {
		cancel()
		wg.Wait()
		return result{}, err
	}
	counting.Store(true)
	time.Sleep(duration)
	counting.Store(false)
	cpu1, err := childCPU(client, base)
	cancel()
	wg.Wait()
	if err != nil {
		return result{}, err
	}
	return result{heapMiB: heapMiB, mode: mode, requests: done.Load(), errors: failed.Load(), cpu: cpu1 - cpu0}, nil
}

func slicesWithout(env []string, prefix string) []string {
	var out []string
	for _, e := range env {
		if !strings.HasPrefix(e, prefix) {
			out = append(out, e)
		}
	}
	return out
}

func childCPU(client *http.Client, base string) (time.Duration, error) {
	resp, err := client.Get(base + "/_cpu")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	ns, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return time.Duration(ns), err
}

// drive is an open-model load: a request starts every 1/rate s whether or not earlier ones
// finished (up to 512 in flight). Requests that complete while counting is set are counted.
func drive(ctx context.Context, client *http.Client, base string, rate int, counting *atomic.Bool, done, failed *atomic.Int64) {
	inflight := make(chan struct{}, 512)
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
		wg.Go(func() {
			defer func() { <-inflight }()
			method, path := http.MethodGet, "/users/"+strconv.Itoa(rand.IntN(1000))
			switch n := rand.IntN(10); {
			case n < 3:
				method, path = http.MethodPost, "/orders"
			case n < 4:
				path = "/checkout"
			}
			req, _ := http.NewRequestWithContext(ctx, method, base+path, strings.NewReader(`{"item":42,"qty":1}`))
			resp, err := client.Do(req)
			ok := err == nil
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			if counting.Load() {
				if ok {
					done.Add(1)
				} else if ctx.Err() == nil {
					failed.Add(1)
				}
			}
		})
	}
}

// The measured service.

type node struct {
	next *node
	//lint:ignore U1000 the padding sizes each node, so that the heap grows by a known amount
	pad [240]byte
}

func runChild(heapMiB int) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	// The live heap: 256-byte objects holding pointers, so the GC has real marking to do.
	ballast := make([]*node, heapMiB<<20/256)
	for i := range ballast {
		ballast[i] = &node{}
		if i > 0 {
			ballast[i].next = ballast[i-1]
		}
	}
	runtime.GC()

	cfg := perfobs.Config{Service: "profcost", Version: "1.0.0", Environment: "bench"}
	cfg.Profiling.ForceGC = os.Getenv("PROFCOST_FORCE_GC") == "1"
	obs, err := perfobs.Start(ctx, cfg)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	// The quickstart's routes, without its slow tail and failures.
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.Atoi(r.PathValue("id"))
		if err != nil || id > 900 {
			http.Error(w, "no such user", http.StatusNotFound)
			return
		}
		time.Sleep(time.Duration(1+rand.IntN(4)) * time.Millisecond)
		_ = json.NewEncoder(w).Encode(map[string]any{"id": id, "name": "user-" + strconv.Itoa(id)})
	})
	mux.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
		var order map[string]any
		_ = json.NewDecoder(r.Body).Decode(&order)
		time.Sleep(time.Duration(5+rand.IntN(20)) * time.Millisecond)
		w.WriteHeader(http.StatusCreated)
	})
	mux.HandleFunc("GET /checkout", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
		_, _ = io.WriteString(w, "ok")
	})
	mux.Handle("GET /metrics", obs.MetricsHandler())
	root := http.NewServeMux()
	root.HandleFunc("GET /_cpu", func(w http.ResponseWriter, r *http.Request) {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, ru.Utime.Nano()+ru.Stime.Nano())
	})
	root.Handle("/", obs.HTTP(mux))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: root, ReadHeaderTimeout: 5 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	fmt.Printf("ready http://%s\n", ln.Addr())

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		return err
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shut)
	err = obs.Shutdown(shut)
	runtime.KeepAlive(ballast)
	if errors.Is(err, context.DeadlineExceeded) {
		return nil // the parent stops reading uploads when it is done
	}
	return err
}
