package leaktest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grafana/pyroscope-go"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// runFake runs a per-test check around f with a fake testing.TB and returns what it reported.
func runFake(f func(), opts ...Option) []error {
	fake := &fakeTB{name: "TestFake"}
	check(fake, append(opts, WithTimeout(200*time.Millisecond))...)
	f()
	fake.finish()
	return fake.errs
}

func TestDefaultsIgnoreProcessLifetimeGoroutines(t *testing.T) {
	// daemons.txt comes from a real program that imports opencensus and glog v1.2.5 and leaves a response
	// body open (testdata/gen). glog before v1.1 named its daemon differently: that one is built by hand.
	gs, err := parseGoroutines(readFixture(t, "daemons.txt"))
	if err != nil {
		t.Fatal(err)
	}
	gs = append(gs, goroutine{id: 99, state: "chan receive", frames: []frame{
		{fn: "github.com/golang/glog.(*loggingT).flushDaemon", file: "glog.go", line: 882}}})
	cfg := newConfig(nil)
	ignored := map[string]bool{}
	for _, g := range gs {
		ignored[g.topFunction()] = cfg.ignores(g)
	}
	tests := []struct {
		top  string
		want bool
	}{
		{top: "go.opencensus.io/stats/view.(*worker).start", want: true},
		{top: "github.com/golang/glog.(*fileSink).flushDaemon", want: true},
		{top: "github.com/golang/glog.(*loggingT).flushDaemon", want: true},
		{top: "net/http.(*persistConn).readLoop", want: false}, // the unclosed-body leak stays visible
		{top: "net/http.(*persistConn).writeLoop", want: false},
		{top: "main.worker", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.top, func(t *testing.T) {
			got, ok := ignored[tt.top]
			if !ok {
				t.Fatalf("fixture has no goroutine with %s on top", tt.top)
			}
			if got != tt.want {
				t.Errorf("default config ignores it: %v, want %v", got, tt.want)
			}
		})
	}
}

func TestOpenTelemetrySDK(t *testing.T) {
	// Each case keeps a provider alive past the check, as a suite that shares one does, and shuts it down after.
	tests := []struct {
		name     string
		opts     []Option
		wantLeak bool
	}{
		{name: "without the option the batch span processor is reported", wantLeak: true},
		{name: "with the option it is not", opts: []Option{OpenTelemetrySDK()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var kept *sdktrace.TracerProvider
			errs := runFake(func() {
				kept = sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewInMemoryExporter()))
				_, span := kept.Tracer("test").Start(context.Background(), "op")
				span.End()
			}, tt.opts...)
			if err := kept.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			assertLeak(t, errs, tt.wantLeak, "go.opentelemetry.io/otel/sdk/trace.(*batchSpanProcessor).processQueue")
		})
	}
}

func TestPyroscope(t *testing.T) {
	var uploads atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { uploads.Add(1) }))
	t.Cleanup(srv.Close)
	tests := []struct {
		name     string
		opts     func(client *http.Client) []Option
		wantLeak bool
	}{
		{name: "without the option the profiler is reported", opts: func(*http.Client) []Option { return nil },
			wantLeak: true},
		{name: "with the option and its client registered it is not", opts: func(c *http.Client) []Option {
			return []Option{Pyroscope(), CloseIdleConnections(c)}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := &http.Client{Transport: &http.Transport{}}
			var p *pyroscope.Profiler
			var uploaded int32
			errs := runFake(func() {
				var err error
				p, err = pyroscope.Start(pyroscope.Config{
					ApplicationName: "leaktest",
					ServerAddress:   srv.URL,
					HTTPClient:      client,
					UploadRate:      time.Hour, // no upload of its own during the check
					ProfileTypes: []pyroscope.ProfileType{pyroscope.ProfileCPU, pyroscope.ProfileInuseSpace,
						pyroscope.ProfileGoroutines},
				})
				if err != nil {
					t.Fatal(err)
				}
				p.Flush(true) // one upload now, which leaves a kept-alive connection to the server
				uploaded = uploads.Load()
			}, tt.opts(client)...)
			if err := p.Stop(); err != nil {
				t.Fatal(err)
			}
			client.CloseIdleConnections()
			if uploaded == 0 {
				t.Fatal("no upload reached the server: the test proves nothing about its connections")
			}
			assertLeak(t, errs, tt.wantLeak, "github.com/grafana/pyroscope-go/upstream/remote.(*Remote).handleJobs",
				"github.com/grafana/pyroscope-go.(*Session).takeSnapshots")
		})
	}
}

func assertLeak(t *testing.T, errs []error, wantLeak bool, wantFuncs ...string) {
	t.Helper()
	if !wantLeak {
		if len(errs) != 0 {
			t.Fatalf("check failed: %v", errs)
		}
		return
	}
	if len(errs) != 1 {
		t.Fatalf("check reported %d errors, want 1", len(errs))
	}
	for _, fn := range wantFuncs {
		if !strings.Contains(errs[0].Error(), fn) {
			t.Errorf("report lacks %s:\n%v", fn, errs[0])
		}
	}
}
