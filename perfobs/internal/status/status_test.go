package status

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/leaktest"
)

func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fixture is a registry with the server duration histograms the middleware writes.
type fixture struct {
	reg        *prometheus.Registry
	http, grpc *prometheus.HistogramVec
	clock      *clock
	h          *Handler
}

func newFixture(t *testing.T, slos ...SLO) *fixture {
	t.Helper()
	f := &fixture{reg: prometheus.NewRegistry(), clock: &clock{t: time.Unix(1_700_000_000, 0)}}
	f.http = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: catalog.HTTPServerDuration, Buckets: catalog.DefaultDurationBuckets()},
		[]string{catalog.LabelMethod, catalog.LabelRoute, catalog.LabelStatusCode, catalog.LabelErrorType})
	f.grpc = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: catalog.RPCServerDuration, Buckets: catalog.DefaultDurationBuckets()},
		[]string{catalog.LabelRPCMethod, catalog.LabelRPCStatus, catalog.LabelErrorType})
	f.reg.MustRegister(f.http, f.grpc)
	f.h = New(Source{Gatherer: f.reg, Service: "checkout", Version: "1.4.2", Started: f.clock.now(),
		Now: f.clock.now, ManualTicks: true, SLOs: slos}) // the test ticks the sampler itself
	t.Cleanup(f.h.Close)
	return f
}

func (f *fixture) serve(n int, route, status, errType string, seconds float64) {
	for range n {
		f.http.WithLabelValues("GET", route, status, errType).Observe(seconds)
	}
}

func (f *fixture) get(t *testing.T, path string) (int, http.Header, string) {
	t.Helper()
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
	return w.Code, w.Header(), w.Body.String()
}

func (f *fixture) red(t *testing.T) map[string]Row {
	t.Helper()
	code, _, body := f.get(t, "/debug/perfobs/api/red")
	if code != 200 {
		t.Fatalf("api/red: status %d: %s", code, body)
	}
	var rep REDReport
	if err := json.Unmarshal([]byte(body), &rep); err != nil {
		t.Fatalf("api/red: %v\n%s", err, body)
	}
	rows := map[string]Row{}
	for _, r := range rep.Rows {
		rows[r.Name] = r
	}
	return rows
}

// TestWindows: each window counts what happened within it, from the ring of snapshots; since
// start counts everything.
func TestWindows(t *testing.T) {
	f := newFixture(t)
	// Two hours of history before anyone looks: the process is older than every window.
	f.clock.add(2 * time.Hour)
	f.serve(100, "/users/{id}", "200", "", 0.02)
	f.h.sampler.look() // the first look takes the first snapshot
	if !f.h.Sampling() {
		t.Fatal("the sampler does not run after a look")
	}
	rows := f.red(t)
	u := rows["GET /users/{id}"]
	if got := u.Windows["start"].Requests; got != 100 {
		t.Fatalf("since start %d requests, want 100", got)
	}
	if w := u.Windows["1m"]; w.Requests != 0 || !w.Partial {
		t.Fatalf("1m window right after the first look: %+v, want 0 requests, partial", w)
	}

	// 20 minutes later, at one snapshot per 10 s: 40 requests 30 s ago, 60 errors 5 minutes ago,
	// 10 slow ones 15 minutes ago.
	for i := 1; i <= 120; i++ {
		f.clock.add(10 * time.Second)
		switch i {
		case 30: // 15 minutes before the end
			f.serve(10, "/users/{id}", "200", "", 2)
		case 90: // 5 minutes before the end
			f.serve(60, "/users/{id}", "500", "500", 0.2)
		case 117: // 30 s before the end
			f.serve(40, "/users/{id}", "200", "", 0.004)
		}
		if !f.h.sampler.tick(f.clock.now()) {
			t.Fatal("sampler stopped while someone looks")
		}
		f.h.sampler.look()
	}
	u = f.red(t)["GET /users/{id}"]
	want := map[string]struct {
		requests, errors uint64
		partial          bool
	}{
		"1m":    {40, 0, false},
		"10m":   {100, 60, false},
		"1h":    {110, 60, true}, // the sampler has run for 20 minutes only
		"start": {210, 60, false},
	}
	for name, w := range want {
		got := u.Windows[name]
		if got.Requests != w.requests || got.Errors != w.errors || got.Partial != w.partial {
			t.Errorf("window %s: %d requests, %d errors, partial %v; want %d, %d, %v", name, got.Requests, got.Errors, got.Partial, w.requests, w.errors, w.partial)
		}
	}
	if r := u.Windows["1m"].Rate; math.Abs(r-40.0/60) > 1e-9 {
		t.Errorf("1m rate %v, want %v", r, 40.0/60)
	}
	if p := u.Windows["10m"].ErrorPct; p == nil || *p != 60 {
		t.Errorf("10m error %% %v, want 60", p)
	}
	// 1m: all 40 at 4 ms, in the (0.0025, 0.005] bucket.
	if p := u.Windows["1m"].P99; p == nil || *p <= 0.0025 || *p > 0.005 {
		t.Errorf("1m p99 %v, want within (2.5ms, 5ms]", p)
	}
	// since start: 10 of 210 at 2 s, so p99 falls in (1, 2.5].
	if p := u.Windows["start"].P99; p == nil || *p <= 1 || *p > 2.5 {
		t.Errorf("since-start p99 %v, want within (1s, 2.5s]", p)
	}
	var hist uint64
	for _, b := range u.Histogram {
		hist += b.Count
	}
	if hist != 210 {
		t.Errorf("histogram holds %d requests, want 210", hist)
	}
}

// TestYoungProcessWindowsAreExact: a process younger than a window is counted from its start,
// exactly, even before the sampler has any history.
func TestYoungProcessWindowsAreExact(t *testing.T) {
	f := newFixture(t)
	f.clock.add(30 * time.Second)
	f.serve(7, "/a", "200", "", 0.01)
	f.serve(3, "/a", "503", "503", 0.01)
	for _, w := range Windows {
		got := f.red(t)["GET /a"].Windows[w.Name]
		if got.Requests != 10 || got.Errors != 3 || got.Partial || got.Seconds != 30 {
			t.Errorf("window %s: %+v, want 10 requests, 3 errors over 30 s", w.Name, got)
		}
	}
}

// TestPageEscapesLabels: a hostile route renders as text; the page runs no script and says so
// in its Content-Security-Policy.
func TestPageEscapesLabels(t *testing.T) {
	f := newFixture(t)
	const evil = `<img src=x onerror=alert(1)>`
	f.serve(1, evil, "200", "", 0.01)
	f.serve(1, `"><script>alert(2)</script>`, "200", "", 0.01)
	code, h, body := f.get(t, "/debug/perfobs/")
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	if strings.Contains(body, "<img") || strings.Contains(body, "<script") {
		t.Fatalf("the page holds markup from a label:\n%s", body)
	}
	if !strings.Contains(body, "GET &lt;img src=x onerror=alert(1)&gt;") {
		t.Fatalf("the hostile route is not shown as escaped text")
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
		t.Fatalf("Content-Security-Policy %q", csp)
	}
	if h.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatal("no X-Content-Type-Options: nosniff")
	}
}

func TestAPIAndRoutes(t *testing.T) {
	traces := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/debug/perfobs/api/traces" {
			io.WriteString(w, `[{"id":"s1","route":"<b>x</b>","file":"/debug/perfobs/traces/s1.trace","bytes":123}]`)
			return
		}
		http.NotFound(w, r)
	})
	f := &fixture{reg: prometheus.NewRegistry(), clock: &clock{t: time.Unix(1_700_000_000, 0)}}
	f.h = New(Source{Gatherer: f.reg, Service: "s", Started: f.clock.now(), Now: f.clock.now, Traces: traces,
		Profiling: func() Profiling {
			return Profiling{Enabled: true, Server: "http://p", Dropped: map[string]float64{"queue_full": 2}}
		}})
	defer f.h.Close()
	for _, tt := range []struct {
		path, contentType string
		status            int
		contains          string
	}{
		{"/debug/perfobs/", "text/html", 200, `<a href="/debug/perfobs/traces/s1.trace">/debug/perfobs/traces/s1.trace</a>`},
		{"/debug/perfobs/", "text/html", 200, `&lt;b&gt;x&lt;/b&gt;`},
		{"/debug/perfobs/", "text/html", 200, `dropped: queue_full`},
		{"/debug/perfobs/api/", "application/json", 200, `"red": "/debug/perfobs/api/red"`},
		{"/debug/perfobs/api/red", "application/json", 200, `"rows": []`},
		{"/debug/perfobs/api/runtime", "application/json", 200, `"goroutines":`},
		{"/debug/perfobs/api/profiling", "application/json", 200, `"queue_full": 2`},
		{"/debug/perfobs/api/slo", "application/json", 200, `[]`},
		{"/debug/perfobs/api/traces", "", 200, `"id":"s1"`},
		{"/debug/perfobs/traces/nosuch", "", 404, ""},
		{"/debug/perfobs/static/style.css", "text/css", 200, "body"},
		{"/debug/perfobs/nosuch", "", 404, ""},
	} {
		code, h, body := f.get(t, tt.path)
		if code != tt.status || !strings.HasPrefix(h.Get("Content-Type"), tt.contentType) || !strings.Contains(body, tt.contains) {
			t.Errorf("%s: status %d, Content-Type %q, want %d %q containing %q:\n%.400s", tt.path, code, h.Get("Content-Type"), tt.status, tt.contentType, tt.contains, body)
		}
	}
}

func TestSLOs(t *testing.T) {
	f := newFixture(t,
		SLO{Name: "users-availability", Kind: "availability", Protocol: KindHTTP, Objective: 0.99, Routes: []string{"/users/{id}"}},
		SLO{Name: "users-latency", Kind: "latency", Protocol: KindHTTP, Objective: 0.9, Threshold: 0.1},
		SLO{Name: "grpc", Kind: "availability", Protocol: KindGRPC, Objective: 0.999})
	f.clock.add(time.Minute)
	f.serve(990, "/users/{id}", "200", "", 0.05)
	f.serve(10, "/users/{id}", "500", "500", 0.5)
	f.serve(100, "/other", "500", "500", 0.01) // not in the first SLO's routes
	_, _, body := f.get(t, "/debug/perfobs/api/slo")
	var got []SLOStatus
	if err := json.Unmarshal([]byte(body), &got); err != nil || len(got) != 3 {
		t.Fatalf("api/slo: %v %s", err, body)
	}
	// Availability: 10 bad of 1000 with a 1% budget: the budget is spent exactly, burning at 1x.
	a := got[0]
	if a.Requests != 1000 || a.Bad != 10 || a.BudgetRemaining == nil || math.Abs(*a.BudgetRemaining) > 1e-9 ||
		a.Burn["1m"] == nil || math.Abs(*a.Burn["1m"]-1) > 1e-9 {
		t.Errorf("availability: %+v", a)
	}
	// Latency over every HTTP route: 10 of 1100 slower than 0.1 s with a 10% budget.
	l := got[1]
	if l.Requests != 1100 || l.Bad != 10 || l.ThresholdBucket != 0.1 || l.BudgetRemaining == nil ||
		math.Abs(*l.BudgetRemaining-(1-(10.0/1100)/0.1)) > 1e-9 {
		t.Errorf("latency: %+v", l)
	}
	if g := got[2]; g.Requests != 0 || g.BudgetRemaining != nil || g.Burn["1m"] != nil {
		t.Errorf("gRPC SLO without requests: %+v", g)
	}
	_, _, page := f.get(t, "/debug/perfobs/")
	if !strings.Contains(page, `data-slo="users-availability"`) {
		t.Error("the page has no SLO panel")
	}
}

func TestQuantileLikePrometheus(t *testing.T) {
	s := series{count: 100, bounds: []float64{0.01, 0.1, 1}, cum: []uint64{50, 90, 100}}
	for _, tt := range []struct{ q, want float64 }{{0.5, 0.01}, {0.25, 0.005}, {0.9, 0.1}, {0.95, 0.55}, {0.99, 0.91}} {
		if got, ok := s.quantile(tt.q); !ok || math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("q%v = %v, want %v", tt.q, got, tt.want)
		}
	}
	inf := series{count: 10, bounds: []float64{0.1}, cum: []uint64{5}}
	if got, _ := inf.quantile(0.99); got != 0.1 {
		t.Errorf("quantile in the +Inf bucket = %v, want the highest bound 0.1", got)
	}
	if _, ok := (series{}).quantile(0.5); ok {
		t.Error("a quantile of nothing")
	}
}

// TestSamplerOnlyWhileLooking: no goroutine before the first look, and none after an hour
// without one, or after Close.
func TestSamplerOnlyWhileLooking(t *testing.T) {
	leaktest.Check(t)
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	h := New(Source{Gatherer: prometheus.NewRegistry(), Service: "s", Started: c.now(), Now: c.now, Interval: 5 * time.Millisecond})
	defer h.Close()
	if h.Sampling() {
		t.Fatal("the sampler runs before anyone looked")
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/debug/perfobs/api/red", nil))
	if !h.Sampling() {
		t.Fatal("the sampler does not run after a look")
	}
	c.add(time.Hour + time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for h.Sampling() {
		if time.Now().After(deadline) {
			t.Fatal("the sampler still runs an hour after the last look")
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/debug/perfobs/", nil))
	if !h.Sampling() {
		t.Fatal("a new look does not restart the sampler")
	}
	h.Close()
	if h.Sampling() {
		t.Fatal("the sampler runs after Close")
	}
}

func ExampleNew() {
	reg := prometheus.NewRegistry()
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: catalog.HTTPServerDuration},
		[]string{catalog.LabelMethod, catalog.LabelRoute, catalog.LabelErrorType})
	reg.MustRegister(h)
	h.WithLabelValues("GET", "/users/{id}", "").Observe(0.02)
	h.WithLabelValues("GET", "/users/{id}", "500").Observe(0.3)

	page := New(Source{Gatherer: reg, Service: "checkout", Started: time.Now()})
	defer page.Close()
	w := httptest.NewRecorder()
	page.ServeHTTP(w, httptest.NewRequest("GET", "/debug/perfobs/api/red", nil))
	var rep REDReport
	if err := json.Unmarshal(w.Body.Bytes(), &rep); err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range rep.Rows {
		s := r.Windows["start"]
		fmt.Printf("%s: %d requests, %.0f%% errors\n", r.Name, s.Requests, *s.ErrorPct)
	}
	// Output: GET /users/{id}: 2 requests, 50% errors
}
