package integrations_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/perfobs/perfobs-go/alerts"
	"github.com/perfobs/perfobs-go/middleware"
)

// shop is an HTTP service instrumented by the middleware: GET /items/{id} fails one request in
// itemsFailEvery, POST /orders one in ordersFailEvery (0: never), GET /slow sleeps slowFor.
type shop struct {
	srv    *httptest.Server
	client *http.Client
}

type shopConfig struct {
	itemsFailEvery, ordersFailEvery int64
	slowFor                         time.Duration
	opts                            []middleware.Option
}

func startShop(t *testing.T, cfg shopConfig) *shop {
	t.Helper()
	reg := prometheus.NewRegistry()
	mux := http.NewServeMux()
	var items, orders atomic.Int64
	failing := func(n *atomic.Int64, every int64) bool {
		// The first request fails, so that the error series exists from the first scrape on.
		return every > 0 && (n.Add(1)-1)%every == 0
	}
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		if failing(&items, cfg.itemsFailEvery) {
			http.Error(w, "injected", http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "item", r.PathValue("id"))
	})
	mux.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
		if failing(&orders, cfg.ordersFailEvery) {
			http.Error(w, "injected", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusCreated)
	})
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(cfg.slowFor)
	})
	outer := http.NewServeMux()
	outer.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true}))
	outer.Handle("/", middleware.HTTP(mux, append([]middleware.Option{middleware.WithRegisterer(reg)}, cfg.opts...)...))
	s := &shop{srv: httptest.NewServer(outer)}
	s.client = s.srv.Client()
	t.Cleanup(s.srv.Close)
	t.Cleanup(s.client.CloseIdleConnections)
	return s
}

func (s *shop) addr() string { return strings.TrimPrefix(s.srv.URL, "http://") }

// load sends requests to paths in turn ("GET /items/1", "POST /orders") until the test ends,
// pausing pause between requests.
func (s *shop) load(t *testing.T, pause time.Duration, requests ...string) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	wg.Go(func() {
		for i := 0; ctx.Err() == nil; i++ {
			method, path, _ := strings.Cut(requests[i%len(requests)], " ")
			req, _ := http.NewRequestWithContext(ctx, method, s.srv.URL+path, nil)
			if resp, err := s.client.Do(req); err == nil {
				resp.Body.Close()
			}
			time.Sleep(pause)
		}
	})
}

// writeRules generates the rule files of spec (no promtool tests) into a temporary folder.
func writeRules(t *testing.T, name, spec string) []string {
	t.Helper()
	m, err := alerts.Load(name, []byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	files, err := alerts.Generate(m)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var out []string
	for _, f := range files {
		if strings.HasSuffix(f.Name, "_test.yaml") {
			continue
		}
		p := filepath.Join(dir, filepath.Base(f.Name))
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		t.Fatalf("%s: no rule files generated", name)
	}
	return out
}
