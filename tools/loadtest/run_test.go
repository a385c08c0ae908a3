package loadtest

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/perfobs/perfobs-go/middleware"
)

// failingServer answers 500 to every fourth request and 200 to the others.
func failingServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%4 == 0 {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestRun(t *testing.T) {
	srv, hits := failingServer(t)
	var progress strings.Builder
	rep, err := Run(t.Context(), []Target{{URL: srv.URL + "/a"}, {Method: "POST", URL: srv.URL + "/b"}},
		100, 1500*time.Millisecond, WithProgress(&progress), WithTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Requests < 140 || rep.Requests > 160 || int64(rep.Requests) != hits.Load() {
		t.Errorf("requests %d (server saw %d), want about 150", rep.Requests, hits.Load())
	}
	if rep.ErrorRate < 0.24 || rep.ErrorRate > 0.26 {
		t.Errorf("error rate %v, want 0.25", rep.ErrorRate)
	}
	if rep.StatusCodes["500"] == 0 || rep.StatusCodes["200"] == 0 {
		t.Errorf("status codes %v", rep.StatusCodes)
	}
	if rep.Rate != 100 || rep.Sent < 90 || rep.Sent > 110 {
		t.Errorf("rate %v sent %v, want 100 offered and about 100 sent", rep.Rate, rep.Sent)
	}
	l := rep.Latency
	if !(0 < l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.P999 && l.P999 <= l.Max) {
		t.Errorf("latency distribution out of order: %+v", l)
	}
	if !strings.Contains(progress.String(), "1s/1.5s:") {
		t.Errorf("no progress line:\n%s", progress.String())
	}
	b, _ := ParseBudget("errors<1%,p99<1s")
	v := b.Check(rep)
	if len(v) != 1 || v[0].Rule != "errors<1%" {
		t.Errorf("violations %v, want errors<1%% only", v)
	}
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"rate        100.0 req/s offered", "errors      2", "% (200 x", "500 x", "latency     p50 "} {
		if !strings.Contains(text.String(), w) {
			t.Errorf("text report lacks %q:\n%s", w, text.String())
		}
	}
}

func TestRunErrors(t *testing.T) {
	srv, _ := failingServer(t)
	tests := []struct {
		name    string
		targets []Target
		rate    float64
		d       time.Duration
		want    string
	}{
		{"no target", nil, 10, time.Second, "no target"},
		{"zero rate", []Target{{URL: srv.URL}}, 0, time.Second, "rate 0"},
		{"zero duration", []Target{{URL: srv.URL}}, 10, 0, "duration 0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Run(t.Context(), tt.targets, tt.rate, tt.d)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
	t.Run("a closed port counts as errors", func(t *testing.T) {
		dead := httptest.NewServer(http.NotFoundHandler())
		url := dead.URL
		dead.Close()
		rep, err := Run(t.Context(), []Target{{URL: url}}, 20, 300*time.Millisecond, WithTimeout(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if rep.ErrorRate != 1 || rep.StatusCodes["0"] == 0 || len(rep.Errors) == 0 {
			t.Errorf("error rate %v codes %v errors %v", rep.ErrorRate, rep.StatusCodes, rep.Errors)
		}
	})
}

func TestParseTarget(t *testing.T) {
	for _, tt := range []struct{ in, method, url, err string }{
		{"http://127.0.0.1:8080/users/1", "GET", "http://127.0.0.1:8080/users/1", ""},
		{"post http://127.0.0.1:8080/checkout", "POST", "http://127.0.0.1:8080/checkout", ""},
		{"127.0.0.1:8080", "", "", "want an http:// or https:// URL"},
		{"GET ftp://x/", "", "", "want an http:// or https:// URL"},
	} {
		got, err := ParseTarget(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got.Method != tt.method || got.URL != tt.url {
			t.Errorf("%q: %+v, %v", tt.in, got, err)
		}
	}
}

// TestOutputAndMerge writes two runs in vegeta's encoding, as two machines would, and merges
// them into one distribution.
func TestOutputAndMerge(t *testing.T) {
	srv, _ := failingServer(t)
	var a, b bytes.Buffer
	ra, err := Run(t.Context(), []Target{{URL: srv.URL}}, 50, 400*time.Millisecond, WithOutput(&a))
	if err != nil {
		t.Fatal(err)
	}
	rb, err := Run(t.Context(), []Target{{URL: srv.URL}}, 50, 400*time.Millisecond, WithOutput(&b))
	if err != nil {
		t.Fatal(err)
	}
	var res Results
	if err := res.Read(&a, "a.bin"); err != nil {
		t.Fatal(err)
	}
	if err := res.Read(&b, "b.bin"); err != nil {
		t.Fatal(err)
	}
	merged := res.Report()
	if merged.Requests != ra.Requests+rb.Requests || res.Len() != merged.Requests {
		t.Errorf("merged %d requests, want %d + %d", merged.Requests, ra.Requests, rb.Requests)
	}
	if merged.StatusCodes["500"] != ra.StatusCodes["500"]+rb.StatusCodes["500"] {
		t.Errorf("merged 500s %d", merged.StatusCodes["500"])
	}
	if merged.Latency.Max < max(ra.Latency.Max, rb.Latency.Max) {
		t.Errorf("merged max %v below the sources' %v %v", merged.Latency.Max, ra.Latency.Max, rb.Latency.Max)
	}
	t.Run("bad input names the source", func(t *testing.T) {
		var res Results
		for _, tt := range []struct{ data, want string }{
			{"", "empty.bin: not vegeta results"},
			{"hello, world\n", "empty.bin: not vegeta results"},
		} {
			if err := res.Read(strings.NewReader(tt.data), "empty.bin"); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		}
	})
}

// TestServerRED scrapes the /metrics of a service instrumented with this SDK's middleware
// and reports its own RED figures beside the client's.
func TestServerRED(t *testing.T) {
	reg := prometheus.NewRegistry()
	mux := http.NewServeMux()
	var n atomic.Int64
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%10 == 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		time.Sleep(2 * time.Millisecond)
	})
	outer := http.NewServeMux()
	outer.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	outer.HandleFunc("GET /other-metrics", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "# TYPE up gauge\nup 1")
	})
	outer.Handle("/", middleware.HTTP(mux, middleware.WithRegisterer(reg)))
	srv := httptest.NewServer(outer)
	t.Cleanup(srv.Close)

	rep, err := Run(t.Context(), []Target{{URL: srv.URL + "/users/1"}, {URL: srv.URL + "/users/2"}}, 100, time.Second,
		WithMetricsURL(srv.URL+"/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	s := rep.Server
	if s == nil {
		t.Fatal("no server figures")
	}
	if s.Note != "" {
		t.Errorf("note %q", s.Note)
	}
	if s.Requests != float64(rep.Requests) {
		t.Errorf("server recorded %v requests, client sent %d", s.Requests, rep.Requests)
	}
	if s.ErrorRate < 0.09 || s.ErrorRate > 0.11 || rep.ErrorRate < 0.09 || rep.ErrorRate > 0.11 {
		t.Errorf("error rates: server %v client %v, want 0.10", s.ErrorRate, rep.ErrorRate)
	}
	// Requests sleep 2ms: the median falls in the first semconv buckets, unless the machine is
	// very busy.
	if s.P50 <= 0 || s.P50 > 25*time.Millisecond || s.P99 < s.P50 {
		t.Errorf("server p50 %v p99 %v", s.P50, s.P99)
	}
	var text bytes.Buffer
	_ = rep.WriteText(&text)
	if !strings.Contains(text.String(), "server      ") || !strings.Contains(text.String(), "requests recorded") {
		t.Errorf("text report lacks the server line:\n%s", text.String())
	}

	t.Run("a /metrics without the histogram says so", func(t *testing.T) {
		rep, err := Run(t.Context(), []Target{{URL: srv.URL + "/users/1"}}, 10, 200*time.Millisecond,
			WithMetricsURL(srv.URL+"/other-metrics"))
		if err != nil {
			t.Fatal(err)
		}
		if rep.Server == nil || !strings.Contains(rep.Server.Note, "no http_server_request_duration_seconds histogram") {
			t.Errorf("server %+v", rep.Server)
		}
	})
	t.Run("an unreachable /metrics is an error", func(t *testing.T) {
		_, err := Run(t.Context(), []Target{{URL: srv.URL + "/users/1"}}, 10, 200*time.Millisecond,
			WithMetricsURL(srv.URL+"/nothing-here"))
		if err == nil || !strings.Contains(err.Error(), "before the run: scrape") {
			t.Errorf("error %v", err)
		}
	})
}

func TestBucketQuantile(t *testing.T) {
	inf := func() float64 { var z float64; return 1 / z }()
	b := map[float64]float64{0.005: 50, 0.01: 90, 0.025: 100, inf: 100}
	for _, tt := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 5 * time.Millisecond}, {0.25, 2500 * time.Microsecond}, {0.7, 7500 * time.Microsecond}, {0.95, 17500 * time.Microsecond}} {
		if got := bucketQuantile(tt.q, b); got != tt.want {
			t.Errorf("q %v = %v, want %v", tt.q, got, tt.want)
		}
	}
	over := map[float64]float64{0.1: 10, inf: 100}
	if got := bucketQuantile(0.99, over); got != 100*time.Millisecond {
		t.Errorf("past the last bound: %v, want the bound 100ms", got)
	}
}
