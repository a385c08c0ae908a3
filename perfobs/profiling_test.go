package perfobs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
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
	"github.com/grafana/pyroscope-go/upstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/leaktest"
)

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
	return x
}

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
	p, err := startProfiler(ProfilingConfig{
		UploadRate:           time.Hour,
		MutexProfileFraction: 1,
		BlockProfileRate:     1,
		Tags:                 map[string]string{"region": "eu-west-1"},
	}, profilingApp{service: "checkout", version: "1.4.2", environment: "production"},
		env(map[string]string{
			EnvPyroscopeServerAddress:     srv.URL,
			EnvPyroscopeBasicAuthUser:     "alice",
			EnvPyroscopeBasicAuthPassword: "s3cret",
			EnvPyroscopeTenantID:          "team-a",
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
	if err := p.shutdown(ctx); err != nil {
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
	p, err := startProfiler(ProfilingConfig{ServerAddress: srv.URL, UploadRate: time.Hour, DisableCPU: true},
		profilingApp{service: "checkout"}, env(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := p.shutdown(ctx); err != nil {
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
	p, err := startProfiler(ProfilingConfig{ServerAddress: srv.URL, UploadRate: 100 * time.Millisecond, ForceGC: true},
		profilingApp{service: "checkout"}, env(nil), nil)
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
	if err := p.shutdown(context.Background()); err != nil {
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
	p, err := startProfiler(ProfilingConfig{ServerAddress: srv.URL, UploadRate: time.Hour},
		profilingApp{service: "checkout"}, env(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.shutdown(context.Background()); err != nil {
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

// blackHole accepts connections and never answers: a profiling server that hangs.
func blackHole(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + ln.Addr().String()
}

// TestProfilingShutdownBoundedByContext is pyroscope-go's Stop hanging on a server that never
// answers: shutdown must return soon after its context ends, with an error, and leave nothing.
func TestProfilingShutdownBoundedByContext(t *testing.T) {
	leaktest.Check(t)
	addr := blackHole(t)
	p, err := startProfiler(ProfilingConfig{ServerAddress: addr, UploadRate: time.Hour, UploadTimeout: time.Minute},
		profilingApp{service: "checkout"}, env(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = p.shutdown(ctx)
	took := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("shutdown: error %v, want one wrapping context.DeadlineExceeded", err)
	}
	// The context, then at most the grace period for cancelled work, plus slack for a busy machine;
	// the upload timeout (a minute) must play no part.
	if took > 300*time.Millisecond+shutdownGrace+time.Second {
		t.Fatalf("shutdown took %v with a 300ms context", took)
	}
	// Idempotent: a second call neither panics nor blocks, and says the same.
	if err2 := p.shutdown(context.Background()); err2 != err {
		t.Fatalf("second shutdown: %v, want the first call's %v", err2, err)
	}
}

// TestProfilingServerErrors: a server answering 500 costs the service nothing and the logger
// sees one line per minute, not one per upload.
func TestProfilingServerErrors(t *testing.T) {
	leaktest.Check(t)
	srv := newFakePyroscope(t, http.StatusInternalServerError)
	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&logMu, &logs}, nil))
	p, err := startProfiler(ProfilingConfig{ServerAddress: srv.URL, UploadRate: time.Hour},
		profilingApp{service: "checkout"}, env(nil), logger)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.shutdown(context.Background()); err != nil {
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

// TestUploaderNeverBlocks: with a server that hangs, a flood of profiles returns at once and the
// queue stays bounded: memory cannot grow with the outage.
func TestUploaderNeverBlocks(t *testing.T) {
	leaktest.Check(t)
	cfg := resolveProfiling(ProfilingConfig{ServerAddress: blackHole(t)}, env(nil))
	base, _ := parseServerAddress(cfg.ServerAddress)
	up := newUploader(base, cfg, newLimitedLogger(slog.New(slog.DiscardHandler), time.Minute))
	up.start()
	start := time.Now()
	for range 10000 {
		up.Upload(&upstream.UploadJob{Name: "x", Profile: make([]byte, 1024)})
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("10000 uploads to a hung server took %v in the caller", d)
	}
	if n := len(up.jobs); n > uploadQueueLength {
		t.Fatalf("queue holds %d profiles, want at most %d", n, uploadQueueLength)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := up.close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("close: %v, want context.DeadlineExceeded", err)
	}
}

func TestStartProfilerConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     ProfilingConfig
		app     profilingApp
		env     map[string]string
		wantNil bool
		wantErr string
	}{
		{name: "zero config and no environment: off", app: profilingApp{service: "s"}, wantNil: true},
		{name: "Disabled wins over the environment", cfg: ProfilingConfig{Disabled: true},
			app: profilingApp{service: "s"}, env: map[string]string{EnvPyroscopeServerAddress: "http://x:4040"}, wantNil: true},
		{name: "address without scheme", cfg: ProfilingConfig{ServerAddress: "pyroscope:4040"},
			app: profilingApp{service: "s"}, wantErr: `ServerAddress "pyroscope:4040": want an http or https URL`},
		{name: "bad address from the environment", app: profilingApp{service: "s"},
			env: map[string]string{EnvPyroscopeServerAddress: "ftp://x"}, wantErr: `PYROSCOPE_SERVER_ADDRESS "ftp://x": want`},
		{name: "empty service", cfg: ProfilingConfig{ServerAddress: "http://x"}, wantErr: "service name is empty"},
		{name: "OpenTelemetry's default service name starts", cfg: ProfilingConfig{ServerAddress: "http://x"},
			app: profilingApp{service: "unknown_service:app", version: "1,2"}},
		{name: "tag name with a dash", cfg: ProfilingConfig{ServerAddress: "http://x", Tags: map[string]string{"a-b": "1"}},
			app: profilingApp{service: "s"}, wantErr: `Tags["a-b"]: character '-' is not allowed`},
		{name: "tag value with a comma", cfg: ProfilingConfig{ServerAddress: "http://x", Tags: map[string]string{"ab": "1,2"}},
			app: profilingApp{service: "s"}, wantErr: `Tags["ab"] = "1,2": the value may not hold`},
		{name: "negative mutex fraction", cfg: ProfilingConfig{ServerAddress: "http://x", MutexProfileFraction: -1},
			app: profilingApp{service: "s"}, wantErr: "MutexProfileFraction -1: must not be negative"},
		{name: "negative block rate", cfg: ProfilingConfig{ServerAddress: "http://x", BlockProfileRate: -5},
			app: profilingApp{service: "s"}, wantErr: "BlockProfileRate -5: must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leaktest.Check(t)
			p, err := startProfiler(tt.cfg, tt.app, env(tt.env), nil)
			if p != nil {
				defer func() {
					ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
					defer cancel()
					_ = p.shutdown(ctx)
				}()
			}
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case tt.wantNil && p != nil:
				t.Fatal("profiler started, want none")
			}
		})
	}
}

func TestResolveProfiling(t *testing.T) {
	tests := []struct {
		name string
		cfg  ProfilingConfig
		env  map[string]string
		want ProfilingConfig
	}{
		{
			name: "environment fills empty fields",
			env: map[string]string{EnvPyroscopeServerAddress: " http://p:4040 ", EnvPyroscopeBasicAuthUser: "u",
				EnvPyroscopeBasicAuthPassword: "pw", EnvPyroscopeTenantID: "t"},
			want: ProfilingConfig{ServerAddress: "http://p:4040", BasicAuthUser: "u", BasicAuthPassword: "pw", TenantID: "t",
				UploadRate: defaultUploadRate, UploadTimeout: defaultUploadTimeout},
		},
		{
			name: "fields win over the environment",
			cfg:  ProfilingConfig{ServerAddress: "http://cfg", TenantID: "c", UploadRate: time.Second, UploadTimeout: 2 * time.Second},
			env:  map[string]string{EnvPyroscopeServerAddress: "http://env", EnvPyroscopeTenantID: "e"},
			want: ProfilingConfig{ServerAddress: "http://cfg", TenantID: "c", UploadRate: time.Second, UploadTimeout: 2 * time.Second},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := resolveProfiling(tt.cfg, env(tt.env))
			if got.ServerAddress != tt.want.ServerAddress || got.BasicAuthUser != tt.want.BasicAuthUser ||
				got.BasicAuthPassword != tt.want.BasicAuthPassword || got.TenantID != tt.want.TenantID ||
				got.UploadRate != tt.want.UploadRate || got.UploadTimeout != tt.want.UploadTimeout {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestLimitedLogger(t *testing.T) {
	var buf bytes.Buffer
	l := newLimitedLogger(slog.New(slog.NewTextHandler(&buf, nil)), 50*time.Millisecond)
	for range 5 {
		l.error("upload", errors.New("boom"))
	}
	time.Sleep(60 * time.Millisecond)
	l.error("upload", errors.New("boom again"))
	out := buf.String()
	if n := strings.Count(out, "level=WARN"); n != 2 {
		t.Fatalf("%d lines, want 2:\n%s", n, out)
	}
	if !strings.Contains(out, "suppressed_since_last=4") {
		t.Fatalf("second line does not count the 4 suppressed errors:\n%s", out)
	}
}

func TestNilProfilerShutdown(t *testing.T) {
	var p *profiler
	if err := p.shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestProfileNames(t *testing.T) {
	tests := []struct {
		name        string
		app         profilingApp
		tags        map[string]string
		wantService string
		wantTags    map[string]string
	}{
		{
			name:        "service, version and environment",
			app:         profilingApp{service: "checkout", version: "1.4.2", environment: "prod"},
			wantService: "checkout",
			wantTags:    map[string]string{"version": "1.4.2", "environment": "prod"},
		},
		{
			name:        "characters Pyroscope refuses become _",
			app:         profilingApp{service: "unknown_service:my app", version: "1.0+a,b", environment: "x=y"},
			wantService: "unknown_service_my_app",
			wantTags:    map[string]string{"version": "1.0+a_b", "environment": "x_y"},
		},
		{
			name:        "Tags win over version",
			app:         profilingApp{service: "s", version: "1"},
			tags:        map[string]string{"version": "2", "region": "eu"},
			wantService: "s",
			wantTags:    map[string]string{"version": "2", "region": "eu"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			names, tags, err := newProfileNames(tt.app, tt.tags)
			if err != nil {
				t.Fatal(err)
			}
			if names.service != tt.wantService {
				t.Errorf("service %q, want %q", names.service, tt.wantService)
			}
			if !maps.Equal(tags, tt.wantTags) {
				t.Errorf("tags %v, want %v", tags, tt.wantTags)
			}
			want := tt.wantService + "{"
			for _, k := range slices.Sorted(maps.Keys(tt.wantTags)) {
				if k < "otel" { // tags sorting before otel.scope.name come first
					want += k + "=" + tt.wantTags[k] + ","
				}
			}
			if !strings.HasPrefix(names.godeltaprof, want) {
				t.Errorf("name %q does not start with %q", names.godeltaprof, want)
			}
			if !strings.Contains(names.godeltaprof, "otel.scope.name=com.grafana.pyroscope/godeltaprof") ||
				!strings.Contains(names.sdk, "otel.scope.name=com.grafana.pyroscope/go,") {
				t.Errorf("scope labels missing: %q, %q", names.sdk, names.godeltaprof)
			}
		})
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
	obs, err := Start(ctx, Config{
		Service: "checkout", Version: "1.4.2", Environment: "production",
		LookupEnv: func(string) (string, bool) { return "", false },
		Profiling: ProfilingConfig{ServerAddress: ingest.URL},
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

// TestUploaderCountsDrops: every profile not uploaded is counted in catalog.ProfilingDropped under
// its reason, and nothing else is.
func TestUploaderCountsDrops(t *testing.T) {
	tests := []struct {
		name   string
		server func(t *testing.T) string
		n      int
		want   map[string]float64 // nil: see check
		check  func(t *testing.T, got map[string]float64, n int)
	}{
		{"server refuses: upload errors", func(t *testing.T) string {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := ln.Addr().String()
			ln.Close()
			return "http://" + addr
		}, 5, map[string]float64{catalog.ReasonQueueFull: 0, catalog.ReasonUploadError: 5, catalog.ReasonShutdown: 0}, nil},
		{"server hangs: queue full, then shutdown", blackHole, 100, nil, func(t *testing.T, got map[string]float64, n int) {
			// Two in flight and 16 queued at most; the rest found the queue full. Shutdown's
			// context ends with those in flight or queued: dropped at shutdown.
			if least := float64(n - uploadQueueLength - uploadWorkers); got[catalog.ReasonQueueFull] < least {
				t.Errorf("queue_full %v, want at least %v", got[catalog.ReasonQueueFull], least)
			}
			if got[catalog.ReasonShutdown] < 1 {
				t.Errorf("shutdown %v, want the queued profiles counted", got[catalog.ReasonShutdown])
			}
			if got[catalog.ReasonUploadError] != 0 {
				t.Errorf("upload_error %v, want 0", got[catalog.ReasonUploadError])
			}
			if sum := got[catalog.ReasonQueueFull] + got[catalog.ReasonShutdown]; sum != float64(n) {
				t.Errorf("%v profiles counted dropped, want all %d", sum, n)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leaktest.Check(t)
			cfg := resolveProfiling(ProfilingConfig{ServerAddress: tt.server(t)}, env(nil))
			base, _ := parseServerAddress(cfg.ServerAddress)
			up := newUploader(base, cfg, newLimitedLogger(slog.New(slog.DiscardHandler), time.Minute))
			up.start()
			for range tt.n {
				up.Upload(&upstream.UploadJob{Name: "x", Profile: make([]byte, 64)})
			}
			if tt.want != nil { // let the uploads fail before shutdown
				deadline := time.Now().Add(5 * time.Second)
				for testutil.ToFloat64(up.uploadError) < float64(tt.n) && time.Now().Before(deadline) {
					time.Sleep(5 * time.Millisecond)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			_ = up.close(ctx)
			up.Upload(&upstream.UploadJob{Name: "late"}) // after close: dropped at shutdown too
			got := map[string]float64{}
			mfs, err := gatherOne(up.dropped)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range mfs.GetMetric() {
				if len(m.GetLabel()) != 1 || m.GetLabel()[0].GetName() != catalog.LabelReason {
					t.Fatalf("labels %v, want only %s", m.GetLabel(), catalog.LabelReason)
				}
				got[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
			}
			if len(got) != 3 {
				t.Fatalf("reasons %v, want queue_full, upload_error and shutdown", got)
			}
			got[catalog.ReasonShutdown]-- // the late one
			if tt.want != nil && !maps.Equal(got, tt.want) {
				t.Errorf("dropped %v, want %v", got, tt.want)
			}
			if tt.check != nil {
				tt.check(t, got, tt.n)
			}
		})
	}
}

// gatherOne gathers c alone, under the catalogue's name.
func gatherOne(c prometheus.Collector) (*dto.MetricFamily, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(c); err != nil {
		return nil, err
	}
	mfs, err := reg.Gather()
	if err != nil {
		return nil, err
	}
	for _, mf := range mfs {
		if mf.GetName() == catalog.ProfilingDropped {
			return mf, nil
		}
	}
	return nil, fmt.Errorf("%s not gathered", catalog.ProfilingDropped)
}

// TestObserverServesProfilingDrops: with profiling on, the Observer's registry serves the drop
// counter, every reason at zero to begin with.
func TestObserverServesProfilingDrops(t *testing.T) {
	leaktest.Check(t)
	srv := newFakePyroscope(t, 0)
	obs, err := Start(context.Background(), Config{Service: "checkout", DisableRuntimeMetrics: true, LookupEnv: env(nil),
		Profiling: ProfilingConfig{ServerAddress: srv.URL, UploadRate: time.Hour, DisableCPU: true}})
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
