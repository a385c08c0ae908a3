package bench

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/perfobs/perfobs-go/flightrecorder"
	"github.com/perfobs/perfobs-go/middleware"
	"github.com/perfobs/perfobs-go/perfobs"
)

// The cost of flight recording: the runtime's execution tracer runs for as long as the recorder
// does, and each request pays a runtime/trace task, two log events and (with a ServeMux) one more
// route lookup. Both benchmarks alternate rounds with recording off and on inside one run, so
// that drift in machine load hits both alike, and report medians over the rounds. Budgets are an
// hour: no snapshot is taken, what is measured is the price of being ready to take one.

func median(x []float64) float64 {
	x = slices.Clone(x)
	slices.Sort(x)
	if len(x) == 0 {
		return 0
	}
	if len(x)%2 == 1 {
		return x[len(x)/2]
	}
	return (x[len(x)/2-1] + x[len(x)/2]) / 2
}

// startRecorder starts a flight recorder whose budget no request breaks.
func startRecorder(b *testing.B) *flightrecorder.Recorder {
	fr, err := flightrecorder.New(flightrecorder.Config{Budget: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	return fr
}

const flightRound = 20_000

// BenchmarkFlightRecorderHTTP is the HTTP hot path (the middleware around a ServeMux with an empty
// handler, in process) with flight recording off and on. It reports the medians off-ns and on-ns
// per request and their difference added-ns; ns/op is the time of a whole pair of rounds.
//
//	go test -run '^$' -bench FlightRecorderHTTP -benchtime 20x ./bench
func BenchmarkFlightRecorderHTTP(b *testing.B) {
	reg := prometheus.NewRegistry()
	off := middleware.HTTP(newMux(), middleware.WithRegisterer(reg))
	req := httptest.NewRequest("GET", "/users/42", nil)
	w := &discardWriter{h: http.Header{}}
	off.ServeHTTP(w, req)
	var offNs, onNs []float64
	round := 0
	for b.Loop() {
		for k := range 2 {
			on := (k+round)%2 == 1
			h := off
			var fr *flightrecorder.Recorder
			if on {
				fr = startRecorder(b)
				h = middleware.HTTP(newMux(), middleware.WithRegisterer(reg), middleware.WithFlightRecorder(fr))
				h.ServeHTTP(w, req)
			}
			runtime.GC()
			start := time.Now()
			for range flightRound {
				h.ServeHTTP(w, req)
			}
			ns := float64(time.Since(start).Nanoseconds()) / flightRound
			if on {
				fr.Stop(context.Background())
				onNs = append(onNs, ns)
			} else {
				offNs = append(offNs, ns)
			}
		}
		round++
	}
	b.ReportMetric(median(offNs), "off-ns")
	b.ReportMetric(median(onNs), "on-ns")
	b.ReportMetric(median(onNs)-median(offNs), "added-ns")
}

// order is the response of the service benchmark's handler.
type order struct {
	ID       string   `json:"id"`
	Customer string   `json:"customer"`
	Items    []string `json:"items"`
	Total    float64  `json:"total"`
	Digest   string   `json:"digest"`
}

var payload = make([]byte, 8<<10)

// serviceMux is a small service: each request hashes 8 KiB and encodes a JSON order (some tens
// of microseconds of CPU, as a request that does real work spends).
func serviceMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		sum := sha256.Sum256(payload)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(order{ID: r.PathValue("id"), Customer: "c-42", Items: []string{"a", "b", "c"},
			Total: 42.5, Digest: fmt.Sprintf("%x", sum[:8])})
	})
	return mux
}

// Modes of the service benchmark.
const (
	modeOff    = iota // no flight recorder
	modeTracer        // a flight recorder runs, but the middleware has no task per request
	modeOn            // Config.FlightRecorder: the tracer and a task per request
)

// serviceRound starts a service through perfobs in mode, sends requests from clients goroutines
// over keep-alive connections for d, and returns the requests per second and the process's CPU
// time per request (server and clients together), which machine load moves less than the rate.
func serviceRound(b *testing.B, mode, clients int, d time.Duration) (rate float64, cpu time.Duration) {
	cfg := perfobs.Config{Service: "bench", DisableRuntimeMetrics: true,
		LookupEnv: func(string) (string, bool) { return "", false },
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil))}
	switch mode {
	case modeOn:
		cfg.FlightRecorder = perfobs.FlightRecorderConfig{Budget: time.Hour}
	case modeTracer:
		defer startRecorder(b).Stop(context.Background())
	}
	obs, err := perfobs.Start(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(obs.HTTP(serviceMux()))
	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	client := &http.Client{Transport: tr}
	get := func() {
		resp, err := client.Get(srv.URL + "/orders/7")
		if err != nil {
			b.Error(err)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	for range clients * 10 { // open the connections, warm the series
		get()
	}
	runtime.GC()
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	cpu0 := processCPU()
	start := time.Now()
	deadline := start.Add(d)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 0
			for time.Now().Before(deadline) {
				get()
				n++
			}
			mu.Lock()
			total += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	rate = float64(total) / time.Since(start).Seconds()
	if total > 0 {
		cpu = (processCPU() - cpu0) / time.Duration(total)
	}
	tr.CloseIdleConnections()
	srv.Close()
	obs.Shutdown(context.Background())
	return rate, cpu
}

// BenchmarkFlightRecorderService is whole-service throughput: a real HTTP server on loopback
// behind perfobs, driven by 8 keep-alive clients in the same process (so the clients' own events
// are traced too), in rounds of 1 s with flight recording off, with only the runtime's tracer
// running, and on, the order rotating. It reports the median requests per second of each, the
// throughput lost, in percent, with the tracer alone and with flight recording on, and the median
// CPU time per request of each mode (the process's user and system time over the requests); ns/op
// is the time of a whole set of rounds.
//
//	go test -run '^$' -bench FlightRecorderService -benchtime 10x ./bench
func BenchmarkFlightRecorderService(b *testing.B) {
	rates := make([][]float64, 3)
	cpus := make([][]float64, 3)
	round := 0
	for b.Loop() {
		for k := range 3 {
			mode := (k + round) % 3
			rate, cpu := serviceRound(b, mode, 8, time.Second)
			rates[mode] = append(rates[mode], rate)
			cpus[mode] = append(cpus[mode], float64(cpu.Nanoseconds())/1e3)
		}
		round++
	}
	off, tracer, on := median(rates[modeOff]), median(rates[modeTracer]), median(rates[modeOn])
	b.ReportMetric(off, "off-req/s")
	b.ReportMetric(on, "on-req/s")
	if off > 0 {
		b.ReportMetric(100*(off-tracer)/off, "tracer-lost-%")
		b.ReportMetric(100*(off-on)/off, "on-lost-%")
	}
	if c := median(cpus[modeOff]); c > 0 {
		b.ReportMetric(c, "off-cpu-us/req")
		b.ReportMetric(median(cpus[modeTracer]), "tracer-cpu-us/req")
		b.ReportMetric(median(cpus[modeOn]), "on-cpu-us/req")
	}
}

// BenchmarkFlightRecorderServiceCPU is the service of BenchmarkFlightRecorderService driven by one
// client, b.N requests, in each mode: under callgrind the difference between two run lengths is
// the instructions per request of the whole process (server, client, runtime and tracer), a
// measure that machine load does not move:
//
//	go test -c -o /tmp/bench.test ./bench
//	for n in 2000 6000; do GOMAXPROCS=1 GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind \
//	  --callgrind-out-file=/tmp/cg.$n /tmp/bench.test -test.run '^$' \
//	  -test.bench 'FlightRecorderServiceCPU/on$' -test.benchtime ${n}x; done
func BenchmarkFlightRecorderServiceCPU(b *testing.B) {
	for _, m := range []struct {
		name string
		mode int
	}{{"off", modeOff}, {"tracer", modeTracer}, {"on", modeOn}} {
		b.Run(m.name, func(b *testing.B) {
			cfg := perfobs.Config{Service: "bench", DisableRuntimeMetrics: true,
				LookupEnv: func(string) (string, bool) { return "", false },
				Logger:    slog.New(slog.NewTextHandler(io.Discard, nil))}
			switch m.mode {
			case modeOn:
				cfg.FlightRecorder = perfobs.FlightRecorderConfig{Budget: time.Hour}
			case modeTracer:
				defer startRecorder(b).Stop(context.Background())
			}
			obs, err := perfobs.Start(context.Background(), cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer obs.Shutdown(context.Background())
			srv := httptest.NewServer(obs.HTTP(serviceMux()))
			defer srv.Close()
			tr := &http.Transport{}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}
			b.ReportAllocs()
			for b.Loop() {
				resp, err := client.Get(srv.URL + "/orders/7")
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
