package perfobs_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/pprof/profile"
	pyroscope "github.com/grafana/pyroscope-go"
	dto "github.com/prometheus/client_model/go"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/leaktest"
	"github.com/perfobs/perfobs-go/perfobs"
)

// app names what is profiled, as perfobs.Config's Service, Version and Environment do.
type app struct{ service, version, environment string }

// start runs profiling through the public API alone: an Observer with profiling configured by
// cfg and the variables of lookup, and nothing else (no runtime metrics).
func start(cfg perfobs.ProfilingConfig, a app, lookup func(string) (string, bool), logger *slog.Logger) (*perfobs.Observer, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return perfobs.Start(context.Background(), perfobs.Config{Service: a.service, Version: a.version,
		Environment: a.environment, Profiling: cfg, LookupEnv: lookup, Logger: logger, DisableRuntimeMetrics: true})
}

// ingested is one upload as the fake Pyroscope server decoded it.
type ingested struct {
	name, units, aggregation, spyName string
	user, password                    string
	basicAuth                         bool
	tenant                            string
	sampleTypes                       []string // from the decoded pprof profile
	profile                           *profile.Profile
	sampleTypeConfig                  string
}

// fakePyroscope stands in for Pyroscope's ingest endpoint: it decodes the multipart form and the
// gzipped pprof profile of every upload, and counts connections.
type fakePyroscope struct {
	*httptest.Server
	t      *testing.T
	status int // response status, 200 when zero

	mu       sync.Mutex
	uploads  []ingested
	open     map[net.Conn]bool
	newConns int
}

func newFakePyroscope(t *testing.T, status int) *fakePyroscope {
	f := &fakePyroscope{t: t, status: status, open: map[net.Conn]bool{}}
	f.Server = httptest.NewUnstartedServer(http.HandlerFunc(f.ingest))
	f.Server.Config.ConnState = func(c net.Conn, s http.ConnState) {
		f.mu.Lock()
		defer f.mu.Unlock()
		switch s {
		case http.StateNew:
			f.open[c] = true
			f.newConns++
		case http.StateClosed, http.StateHijacked:
			delete(f.open, c)
		}
	}
	f.Start()
	t.Cleanup(f.Close)
	return f
}

func (f *fakePyroscope) ingest(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/ingest" {
		f.t.Errorf("fake pyroscope: %s %s, want POST /ingest", r.Method, r.URL.Path)
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	q := r.URL.Query()
	in := ingested{
		name: q.Get("name"), units: q.Get("units"), aggregation: q.Get("aggregationType"),
		spyName: q.Get("spyName"), tenant: r.Header.Get("X-Scope-OrgID"),
	}
	in.user, in.password, in.basicAuth = r.BasicAuth()
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		f.t.Errorf("fake pyroscope: multipart: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	file, _, err := r.FormFile("profile")
	if err != nil {
		f.t.Errorf("fake pyroscope: no profile part: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	raw, _ := io.ReadAll(file)
	file.Close()
	if len(raw) < 2 || raw[0] != 0x1f || raw[1] != 0x8b {
		f.t.Errorf("fake pyroscope: profile of %q is not gzipped", in.name)
	}
	p, err := profile.Parse(bytes.NewReader(raw))
	if err != nil {
		f.t.Errorf("fake pyroscope: profile of %q: %v", in.name, err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	in.profile = p
	for _, st := range p.SampleType {
		in.sampleTypes = append(in.sampleTypes, st.Type)
	}
	if stc, _, err := r.FormFile("sample_type_config"); err == nil {
		b, _ := io.ReadAll(stc)
		stc.Close()
		in.sampleTypeConfig = string(b)
	}
	f.mu.Lock()
	f.uploads = append(f.uploads, in)
	f.mu.Unlock()
	if f.status != 0 {
		http.Error(w, "ingest refused", f.status)
	}
}

func (f *fakePyroscope) received() []ingested {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.uploads)
}

func (f *fakePyroscope) openConns() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.open)
}

// find returns the uploads whose profile has the given first sample type.
func find(uploads []ingested, sampleType string) []ingested {
	var out []ingested
	for _, u := range uploads {
		if slices.Contains(u.sampleTypes, sampleType) {
			out = append(out, u)
		}
	}
	return out
}

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// burnCPUForProfile spins for d; the CPU profile must name it.
//
//go:noinline
func burnCPUForProfile(d time.Duration) uint64 {
	var x uint64 = 1
	for end := time.Now().Add(d); time.Now().Before(end); {
		for i := 0; i < 10000; i++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	burnSink = x // a side effect, so that the loop is not optimized away
	return x
}

var burnSink uint64

func hasFunction(p *profile.Profile, name string) int {
	n := 0
	for _, s := range p.Sample {
		for _, loc := range s.Location {
			for _, line := range loc.Line {
				if line.Function != nil && strings.HasSuffix(line.Function.Name, name) {
					n++
				}
			}
		}
	}
	return n
}

var sink [][]byte

// TestProfilingUploadsEveryType runs a session whose upload interval is longer than the test, so
// every profile that arrives was uploaded by shutdown: the last interval of each enabled type.
func TestProfilingUploadsEveryType(t *testing.T) {
	leaktest.Check(t)
	srv := newFakePyroscope(t, 0)
	p, err := start(perfobs.ProfilingConfig{
		UploadRate:           time.Hour,
		MutexProfileFraction: 1,
		BlockProfileRate:     1,
		Tags:                 map[string]string{"region": "eu-west-1"},
	}, app{service: "checkout", version: "1.4.2", environment: "production"},
		env(map[string]string{
			"PYROSCOPE_SERVER_ADDRESS":      srv.URL,
			"PYROSCOPE_BASIC_AUTH_USER":     "alice",
			"PYROSCOPE_BASIC_AUTH_PASSWORD": "s3cret",
			"PYROSCOPE_TENANT_ID":           "team-a",
		}), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if p == nil {
		t.Fatal("startProfiler returned no profiler although PYROSCOPE_SERVER_ADDRESS is set")
	}
	burnCPUForProfile(500 * time.Millisecond)
	for range 1000 {
		sink = append(sink, make([]byte, 1024))
	}
	sink = nil
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 4 { // some contention for the mutex and block profiles
		wg.Go(func() {
			for range 1000 {
				mu.Lock()
				time.Sleep(time.Microsecond)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if n := len(srv.received()); n != 0 {
		t.Fatalf("%d uploads before shutdown with a one-hour interval", n)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	uploads := srv.received()

	tests := []struct {
		name       string
		sampleType string
		units      string // the units query parameter, "" for godeltaprof uploads
		scope      string
		check      func(t *testing.T, p *profile.Profile)
	}{
		{"cpu", "cpu", "samples", "com.grafana.pyroscope/go", func(t *testing.T, p *profile.Profile) {
			if n := hasFunction(p, "burnCPUForProfile"); n == 0 {
				t.Errorf("CPU profile has %d samples, none in burnCPUForProfile", len(p.Sample))
			}
		}},
		{"heap", "alloc_objects", "", "com.grafana.pyroscope/godeltaprof", func(t *testing.T, p *profile.Profile) {
			want := []string{"alloc_objects", "alloc_space", "inuse_objects", "inuse_space"}
			var got []string
			for _, st := range p.SampleType {
				got = append(got, st.Type)
			}
			if !slices.Equal(got, want) {
				t.Errorf("heap sample types %v, want %v", got, want)
			}
			if len(p.Sample) == 0 {
				t.Error("heap profile has no samples")
			}
		}},
		{"goroutine", "goroutine", "goroutines", "com.grafana.pyroscope/go", func(t *testing.T, p *profile.Profile) {
			var total int64
			for _, s := range p.Sample {
				total += s.Value[0]
			}
			if total < 2 {
				t.Errorf("goroutine profile counts %d goroutines, want at least 2", total)
			}
		}},
		{"mutex", "contentions", "", "com.grafana.pyroscope/godeltaprof", func(t *testing.T, p *profile.Profile) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := find(uploads, tt.sampleType)
			if tt.name == "mutex" {
				// mutex and block profiles share sample types; tell them apart by their config.
				var mutex, block int
				for _, u := range got {
					switch {
					case strings.Contains(u.sampleTypeConfig, `"mutex_count"`):
						mutex++
					case strings.Contains(u.sampleTypeConfig, `"block_count"`):
						block++
					}
				}
				if mutex != 1 || block != 1 {
					t.Fatalf("got %d mutex and %d block profiles, want 1 each", mutex, block)
				}
				got = got[:1]
			}
			if len(got) != 1 {
				t.Fatalf("got %d %s profiles, want 1 (all uploads: %d)", len(got), tt.name, len(uploads))
			}
			u := got[0]
			for _, want := range []string{"checkout{", "version=1.4.2", "environment=production",
				"region=eu-west-1", "otel.scope.name=" + tt.scope, "process.runtime.name=go"} {
				if !strings.Contains(u.name, want) {
					t.Errorf("name %q lacks %q", u.name, want)
				}
			}
			if u.units != tt.units {
				t.Errorf("units %q, want %q", u.units, tt.units)
			}
			if u.spyName != "gospy" {
				t.Errorf("spyName %q, want gospy", u.spyName)
			}
			if !u.basicAuth || u.user != "alice" || u.password != "s3cret" {
				t.Errorf("basic auth %v %q %q, want alice s3cret", u.basicAuth, u.user, u.password)
			}
			if u.tenant != "team-a" {
				t.Errorf("X-Scope-OrgID %q, want team-a", u.tenant)
			}
			tt.check(t, u.profile)
		})
	}
	if runtime.SetMutexProfileFraction(-1) != 0 {
		t.Error("mutex profile fraction not restored after shutdown")
	}
}

// TestProfilingShutdownWithCPUOff is pyroscope-go's first trap: its Profiler.Flush blocks forever
// when CPU profiling is off. Shutdown must return and still upload heap and goroutine profiles.
func TestProfilingShutdownWithCPUOff(t *testing.T) {
	leaktest.Check(t)
	srv := newFakePyroscope(t, 0)
	p, err := start(perfobs.ProfilingConfig{ServerAddress: srv.URL, UploadRate: time.Hour, DisableCPU: true},
		app{service: "checkout"}, env(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := p.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("shutdown took %v", d)
	}
	uploads := srv.received()
	if n := len(find(uploads, "cpu")); n != 0 {
		t.Errorf("%d CPU profiles with CPU profiling off", n)
	}
	for _, st := range []string{"alloc_space", "goroutine"} {
		if n := len(find(uploads, st)); n != 1 {
			t.Errorf("%d profiles with sample type %s, want 1", n, st)
		}
	}
}

// TestProfilingUploadsEachInterval checks the periodic path: with a short interval, profiles
// arrive before shutdown, and no connection stays open afterwards.
func TestProfilingUploadsEachInterval(t *testing.T) {
	leaktest.Check(t)
	srv := newFakePyroscope(t, 0)
	p, err := start(perfobs.ProfilingConfig{ServerAddress: srv.URL, UploadRate: 100 * time.Millisecond, ForceGC: true},
		app{service: "checkout"}, env(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(find(srv.received(), "goroutine")) < 2 || len(find(srv.received(), "alloc_space")) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("after 5 s: %d goroutine and %d heap profiles, want 2 each",
				len(find(srv.received(), "goroutine")), len(find(srv.received(), "alloc_space")))
		}
		burnCPUForProfile(50 * time.Millisecond)
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if n := len(find(srv.received(), "cpu")); n < 1 {
		t.Errorf("%d CPU profiles, want at least 1", n)
	}
	waitNoConns(t, srv)
}

// waitNoConns is pyroscope-go's third trap: its HTTP client keeps idle connections open after
// Stop. Ours must close every connection it opened.
func waitNoConns(t *testing.T, srv *fakePyroscope) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for srv.openConns() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections to the profiling server still open after shutdown", srv.openConns())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestProfilingClosesConnections(t *testing.T) {
	leaktest.Check(t)
	srv := newFakePyroscope(t, 0)
	p, err := start(perfobs.ProfilingConfig{ServerAddress: srv.URL, UploadRate: time.Hour},
		app{service: "checkout"}, env(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv.mu.Lock()
	opened := srv.newConns
	srv.mu.Unlock()
	if opened == 0 {
		t.Fatal("no connection was opened: the test proves nothing")
	}
	waitNoConns(t, srv)
}

// TestProfilingServerErrors: a server answering 500 costs the service nothing and the logger
// sees one line per minute, not one per upload.
func TestProfilingServerErrors(t *testing.T) {
	leaktest.Check(t)
	srv := newFakePyroscope(t, http.StatusInternalServerError)
	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&logMu, &logs}, nil))
	p, err := start(perfobs.ProfilingConfig{ServerAddress: srv.URL, UploadRate: time.Hour},
		app{service: "checkout"}, env(nil), logger)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if n := len(srv.received()); n < 3 {
		t.Fatalf("%d uploads reached the server, want at least 3 (cpu, heap, goroutine)", n)
	}
	logMu.Lock()
	out := logs.String()
	logMu.Unlock()
	if n := strings.Count(out, "level=WARN"); n != 1 {
		t.Fatalf("%d warnings logged, want 1 (rate-limited):\n%s", n, out)
	}
	if !strings.Contains(out, "status 500") || !strings.Contains(out, "component=profiling") {
		t.Fatalf("warning does not name the status and component:\n%s", out)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// TestPyroscopeProfilerStopDropsLastInterval is the control for TestProfilingUploadsEveryType: it
// shows the pyroscope-go trap our shutdown avoids. pyroscope.Start's Profiler.Stop uploads no heap
// or goroutine profile for the interval it ends. When this test fails, pyroscope-go has fixed it
// and profiling.go may be simplified.
func TestPyroscopeProfilerStopDropsLastInterval(t *testing.T) {
	leaktest.Check(t)
	srv := newFakePyroscope(t, 0)
	p, err := pyroscope.Start(pyroscope.Config{
		ApplicationName: "checkout",
		ServerAddress:   srv.URL,
		UploadRate:      time.Hour,
		DisableGCRuns:   true,
		ProfileTypes:    []pyroscope.ProfileType{pyroscope.ProfileGoroutines, pyroscope.ProfileInuseSpace, pyroscope.ProfileAllocSpace},
	})
	if err != nil {
		t.Fatal(err)
	}
	for range 1000 {
		sink = append(sink, make([]byte, 1024))
	}
	sink = nil
	runtime.GC()
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.received()); n != 0 {
		t.Fatalf("pyroscope-go's Stop uploaded %d profiles for the last interval; the trap is gone", n)
	}
}

// TestObserverServesProfilingDrops: with profiling on, the Observer's registry serves the drop
// counter, every reason at zero to begin with.
func TestObserverServesProfilingDrops(t *testing.T) {
	leaktest.Check(t)
	srv := newFakePyroscope(t, 0)
	obs, err := perfobs.Start(context.Background(), perfobs.Config{Service: "checkout", DisableRuntimeMetrics: true, LookupEnv: env(nil),
		Profiling: perfobs.ProfilingConfig{ServerAddress: srv.URL, UploadRate: time.Hour, DisableCPU: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer obs.Shutdown(context.Background())
	mfs, err := obs.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for _, mf := range mfs {
		if mf.GetName() != catalog.ProfilingDropped {
			continue
		}
		if mf.GetType() != dto.MetricType_COUNTER {
			t.Errorf("%s is a %v, want a counter", catalog.ProfilingDropped, mf.GetType())
		}
		for _, m := range mf.GetMetric() {
			reasons = append(reasons, m.GetLabel()[0].GetValue())
			if v := m.GetCounter().GetValue(); v != 0 {
				t.Errorf("%v dropped before any upload", v)
			}
		}
	}
	slices.Sort(reasons)
	if want := []string{catalog.ReasonQueueFull, catalog.ReasonShutdown, catalog.ReasonUploadError}; !slices.Equal(reasons, want) {
		t.Fatalf("%s reasons %v, want %v", catalog.ProfilingDropped, reasons, want)
	}
}

// Profiling starts when Config.Profiling.ServerAddress (or PYROSCOPE_SERVER_ADDRESS) is set;
// Shutdown uploads the last interval of each profile type. Here a test server stands in for
// Pyroscope.
func ExampleProfilingConfig() {
	var mu sync.Mutex
	var got []string
	ingest := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, _, _ := strings.Cut(r.URL.Query().Get("name"), "{")
		file, _, err := r.FormFile("profile")
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		defer file.Close()
		p, err := profile.Parse(file)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		got = append(got, name+": "+p.SampleType[0].Type)
		mu.Unlock()
	}))
	defer ingest.Close()

	ctx := context.Background()
	obs, err := perfobs.Start(ctx, perfobs.Config{
		Service: "checkout", Version: "1.4.2", Environment: "production",
		LookupEnv: func(string) (string, bool) { return "", false },
		Profiling: perfobs.ProfilingConfig{ServerAddress: ingest.URL},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := obs.Shutdown(ctx); err != nil {
		fmt.Println(err)
	}
	slices.Sort(got)
	for _, g := range got {
		fmt.Println(g)
	}
	// Output:
	// checkout: alloc_objects
	// checkout: goroutine
	// checkout: samples
}

// TestSpansLinkToProfiles: with profiling and tracing on, a request's server span carries
// pyroscope.profile.id and the CPU samples taken while it ran carry its span_id label.
func TestSpansLinkToProfiles(t *testing.T) {
	leaktest.Check(t)
	pyro := newFakePyroscope(t, 0)
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	defer tp.Shutdown(context.Background())
	obs, err := perfobs.Start(context.Background(), perfobs.Config{TracerProvider: tp, DisableRuntimeMetrics: true, LookupEnv: env(nil),
		Profiling: perfobs.ProfilingConfig{ServerAddress: pyro.URL, UploadRate: time.Hour, DisableHeap: true, DisableGoroutines: true}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /work", func(w http.ResponseWriter, r *http.Request) { burnCPUForProfile(400 * time.Millisecond) })
	obs.HTTP(mux).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/work", nil))
	burnCPUForProfile(300 * time.Millisecond) // outside any span: the labels must be gone
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := obs.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	spans := sr.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans, want 1", len(spans))
	}
	id := spans[0].SpanContext().SpanID().String()
	var profileID string
	for _, kv := range spans[0].Attributes() {
		if kv.Key == attribute.Key("pyroscope.profile.id") {
			profileID = kv.Value.AsString()
		}
	}
	if profileID != id {
		t.Errorf("span attribute pyroscope.profile.id %q, want the span id %q", profileID, id)
	}
	cpu := find(pyro.received(), "cpu")
	if len(cpu) != 1 {
		t.Fatalf("%d CPU profiles, want 1", len(cpu))
	}
	var inSpan, outside int
	for _, s := range cpu[0].profile.Sample {
		if slices.Contains(s.Label["span_id"], id) && slices.Contains(s.Label["span_name"], "GET") {
			inSpan++
		} else if len(s.Label["span_id"]) == 0 {
			outside++
		}
	}
	if inSpan == 0 {
		t.Errorf("no CPU sample labelled span_id=%s span_name=GET among %d", id, len(cpu[0].profile.Sample))
	}
	if outside == 0 {
		t.Error("every CPU sample is labelled: the labels outlived the span")
	}
}
