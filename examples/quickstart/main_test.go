package main

import (
	"bytes"
	"context"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perfobs/perfobs-go/leaktest"
)

func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }

// syncBuffer lets the test read what run writes from another goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestQuickstartRunsAndSummarises runs the real service with its load for a few seconds on a free
// port and checks that the summary shows every route with plausible figures, then a clean stop.
func TestQuickstartRunsAndSummarises(t *testing.T) {
	var out syncBuffer
	err := run(context.Background(), options{addr: "127.0.0.1:0", grpcAddr: "127.0.0.1:0", debugAddr: "127.0.0.1:0", load: true, rate: 300, every: time.Second, duration: 3500 * time.Millisecond}, &out)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []string{"HTTP GET /users/{id}", "HTTP POST /orders", "HTTP GET /checkout", "gRPC grpc.testing.TestService/UnaryCall", "gRPC grpc.testing.TestService/StreamingOutputCall", "req/s", "p99 ms", "/debug/perfobs/ (private listener", "stopped cleanly"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "HTTP GET /healthz") || strings.Contains(text, "HTTP GET /metrics") {
		t.Errorf("skipped paths appear in the summary:\n%s", text)
	}
}

func TestQuantileInterpolatesLikePrometheus(t *testing.T) {
	h := hist{bounds: []float64{0.1, 0.2, 0.4}, counts: []uint64{10, 10, 0, 0}}
	tests := []struct{ q, want float64 }{{0.5, 0.1}, {0.75, 0.15}, {0.25, 0.05}, {1, 0.2}}
	for _, tt := range tests {
		if got := quantile(tt.q, h); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("q%.2f = %v, want %v", tt.q, got, tt.want)
		}
	}
	inf := hist{bounds: []float64{1}, counts: []uint64{0, 5}}
	if got := quantile(0.9, inf); got != 1 {
		t.Errorf("quantile in +Inf = %v, want the highest finite bound", got)
	}
	if !math.IsNaN(quantile(0.5, hist{bounds: []float64{1}, counts: []uint64{0, 0}})) {
		t.Error("empty histogram must give NaN")
	}
}

// TestQuickstartServesItsStatusPage: the URL the quickstart prints serves the status page, with
// the routes of its load, on the private listener only.
func TestQuickstartServesItsStatusPage(t *testing.T) {
	var out syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, options{addr: "127.0.0.1:0", grpcAddr: "127.0.0.1:0", debugAddr: "127.0.0.1:0", load: true, rate: 100, every: time.Hour}, &out)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	url := ""
	for deadline := time.Now().Add(10 * time.Second); url == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, rest, ok := strings.Cut(out.String(), "status page at "); ok {
			url, _, _ = strings.Cut(rest, " ")
		}
	}
	if !strings.HasPrefix(url, "http://127.0.0.1:") || !strings.HasSuffix(url, "/debug/perfobs/") {
		t.Fatalf("no status page URL printed:\n%s", out.String())
	}
	client := &http.Client{Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	var body string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err := client.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d", url, resp.StatusCode)
		}
		if body = string(b); strings.Contains(body, "GET /users/{id}") && strings.Contains(body, "grpc.testing.TestService/UnaryCall") {
			return
		}
	}
	t.Fatalf("the status page does not show the load's HTTP route and gRPC method:\n%.2000s", body)
}
