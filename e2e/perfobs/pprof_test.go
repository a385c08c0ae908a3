package perfobs_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/perfobs/perfobs-go/leaktest"
	"github.com/perfobs/perfobs-go/perfobs"
)

func get(t *testing.T, srv *httptest.Server, path string) (int, http.Header, []byte) {
	t.Helper()
	resp, err := srv.Client().Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, body
}

func TestPprofHandler(t *testing.T) {
	leaktest.Check(t)
	obs, err := perfobs.Start(context.Background(), perfobs.Config{Service: "checkout", DisableRuntimeMetrics: true, LookupEnv: env(nil)})
	if err != nil {
		t.Fatal(err)
	}
	defer obs.Shutdown(context.Background())
	srv := httptest.NewServer(obs.PprofHandler())
	defer srv.Close()

	parses := func(t *testing.T, body []byte) *profile.Profile {
		t.Helper()
		p, err := profile.Parse(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("not a pprof profile: %v", err)
		}
		return p
	}
	tests := []struct {
		path       string
		wantStatus int
		check      func(t *testing.T, h http.Header, body []byte)
	}{
		{"/debug/pprof/", 200, func(t *testing.T, h http.Header, body []byte) {
			for _, want := range []string{`href="goroutine?debug=1"`, `href="heap?debug=1"`, `href="profile?seconds=30"`} {
				if !bytes.Contains(body, []byte(want)) {
					t.Errorf("index lacks %s", want)
				}
			}
		}},
		{"/debug/pprof/goroutine?debug=1", 200, func(t *testing.T, h http.Header, body []byte) {
			if !bytes.HasPrefix(body, []byte("goroutine profile: total ")) {
				t.Errorf("debug=1 goroutine profile starts %q", body[:min(40, len(body))])
			}
			if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("Content-Type %q", ct)
			}
		}},
		{"/debug/pprof/heap?gc=1", 200, func(t *testing.T, h http.Header, body []byte) {
			p := parses(t, body)
			if p.SampleType[0].Type != "alloc_objects" {
				t.Errorf("heap profile's first sample type is %q", p.SampleType[0].Type)
			}
		}},
		{"/debug/pprof/goroutine", 200, func(t *testing.T, h http.Header, body []byte) {
			p := parses(t, body)
			if len(p.Sample) == 0 {
				t.Error("goroutine profile has no samples")
			}
		}},
		{"/debug/pprof/profile?seconds=1", 200, func(t *testing.T, h http.Header, body []byte) {
			p := parses(t, body)
			if p.SampleType[len(p.SampleType)-1].Type != "cpu" {
				t.Errorf("CPU profile sample types %v", p.SampleType)
			}
		}},
		{"/debug/pprof/trace?seconds=0.1", 200, func(t *testing.T, h http.Header, body []byte) {
			if !bytes.HasPrefix(body, []byte("go 1.")) {
				t.Errorf("trace starts %q", body[:min(10, len(body))])
			}
		}},
		{"/debug/pprof/cmdline", 200, func(t *testing.T, h http.Header, body []byte) {
			if !bytes.Contains(body, []byte("perfobs.test")) {
				t.Errorf("cmdline %q lacks the test binary", body)
			}
		}},
		{"/debug/pprof/nosuch", 404, nil},
		{"/debug/pprof/heap?debug=x", 400, nil},
		{"/debug/pprof/trace?seconds=-1", 400, nil},
		{"/debug/pprof", 200, nil}, // the mux redirects to /debug/pprof/
		{"/metrics", 404, nil},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			status, h, body := get(t, srv, tt.path)
			if status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", status, tt.wantStatus, body)
			}
			if tt.check != nil {
				tt.check(t, h, body)
			}
		})
	}
}

// TestPprofCPUProfileWhileProfiling: an on-demand CPU profile works while continuous profiling
// holds the CPU profiler, and continuous profiling goes on.
func TestPprofCPUProfileWhileProfiling(t *testing.T) {
	leaktest.Check(t)
	ingest := newFakePyroscope(t, 0)
	p, err := start(perfobs.ProfilingConfig{ServerAddress: ingest.URL, UploadRate: time.Hour, DisableHeap: true, DisableGoroutines: true},
		app{service: "checkout"}, env(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p.PprofHandler())
	defer srv.Close()
	done := make(chan struct{})
	go func() { defer close(done); burnCPUForProfile(time.Second) }()
	status, _, body := get(t, srv, "/debug/pprof/profile?seconds=1")
	<-done
	if status != 200 {
		t.Fatalf("status %d: %s", status, body)
	}
	prof, err := profile.Parse(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if hasFunction(prof, "burnCPUForProfile") == 0 {
		t.Error("on-demand CPU profile misses burnCPUForProfile")
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(find(ingest.received(), "cpu")); n == 0 {
		t.Error("continuous profiling uploaded no CPU profile")
	}
}
