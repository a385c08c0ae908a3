package main

import (
	"bytes"
	"context"
	"math"
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
	err := run(context.Background(), options{addr: "127.0.0.1:0", grpcAddr: "127.0.0.1:0", load: true, rate: 300, every: time.Second, duration: 3500 * time.Millisecond}, &out)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []string{"HTTP GET /users/{id}", "HTTP POST /orders", "HTTP GET /checkout", "gRPC grpc.testing.TestService/UnaryCall", "gRPC grpc.testing.TestService/StreamingOutputCall", "req/s", "p99 ms", "stopped cleanly"} {
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
