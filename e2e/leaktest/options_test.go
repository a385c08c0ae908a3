// Package leaktest_test proves leaktest's option sets against the real OpenTelemetry SDK and Pyroscope
// client. It lives in the e2e module so that the SDK module's go.mod carries neither.
package leaktest_test

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

	"github.com/perfobs/perfobs-go/leaktest"
)

func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }

func TestOpenTelemetrySDK(t *testing.T) {
	// Each case keeps a provider alive past the check, as a suite that shares one does, and shuts it down after.
	tests := []struct {
		name     string
		opts     []leaktest.Option
		wantLeak bool
	}{
		{name: "without the option the batch span processor is reported", wantLeak: true},
		{name: "with the option it is not", opts: []leaktest.Option{leaktest.OpenTelemetrySDK()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ignore := leaktest.IgnoreCurrent() // taken before the provider starts
			kept := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewInMemoryExporter()))
			_, span := kept.Tracer("test").Start(context.Background(), "op")
			span.End()
			found := leaktest.Find(append([]leaktest.Option{ignore, leaktest.WithTimeout(200 * time.Millisecond)}, tt.opts...)...)
			if err := kept.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			assertLeak(t, found, tt.wantLeak, "go.opentelemetry.io/otel/sdk/trace.(*batchSpanProcessor).processQueue")
		})
	}
}

func TestPyroscope(t *testing.T) {
	var uploads atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { uploads.Add(1) }))
	t.Cleanup(srv.Close)
	tests := []struct {
		name     string
		opts     func(client *http.Client) []leaktest.Option
		wantLeak bool
	}{
		{name: "without the option the profiler is reported", opts: func(*http.Client) []leaktest.Option { return nil },
			wantLeak: true},
		{name: "with the option and its client registered it is not", opts: func(c *http.Client) []leaktest.Option {
			return []leaktest.Option{leaktest.Pyroscope(), leaktest.CloseIdleConnections(c)}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := &http.Client{Transport: &http.Transport{}}
			ignore := leaktest.IgnoreCurrent()
			p, err := pyroscope.Start(pyroscope.Config{
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
			uploaded := uploads.Load()
			found := leaktest.Find(append([]leaktest.Option{ignore, leaktest.WithTimeout(200 * time.Millisecond)},
				tt.opts(client)...)...)
			if err := p.Stop(); err != nil {
				t.Fatal(err)
			}
			client.CloseIdleConnections()
			if uploaded == 0 {
				t.Fatal("no upload reached the server: the test proves nothing about its connections")
			}
			assertLeak(t, found, tt.wantLeak, "github.com/grafana/pyroscope-go/upstream/remote.(*Remote).handleJobs",
				"github.com/grafana/pyroscope-go.(*Session).takeSnapshots")
		})
	}
}

func assertLeak(t *testing.T, err error, wantLeak bool, wantFuncs ...string) {
	t.Helper()
	if !wantLeak {
		if err != nil {
			t.Fatalf("check failed: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatal("check found no leak, want one")
	}
	for _, fn := range wantFuncs {
		if !strings.Contains(err.Error(), fn) {
			t.Errorf("report lacks %s:\n%v", fn, err)
		}
	}
}
