package flightrec_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/perfobs/perfobs-go/perfobs"
)

// entry is one object of /debug/perfobs/api/traces.
type entry struct {
	ID              string  `json:"id"`
	Route           string  `json:"route"`
	TraceID         string  `json:"trace_id"`
	DurationSeconds float64 `json:"duration_seconds"`
	URL             string  `json:"url"`
	Summary         string  `json:"summary"`
	Requests        []struct {
		TraceID string `json:"trace_id"`
	} `json:"requests"`
}

// service is a started Observer serving mux, with its debug handler and recorded spans.
type service struct {
	obs   *perfobs.Observer
	srv   *httptest.Server
	debug *httptest.Server
	spans *tracetest.SpanRecorder
}

func start(t *testing.T, fc perfobs.FlightRecorderConfig, mux *http.ServeMux) *service {
	t.Helper()
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	obs, err := perfobs.Start(context.Background(), perfobs.Config{Service: "flightrec",
		LookupEnv: func(string) (string, bool) { return "", false },
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)), TracerProvider: tp, FlightRecorder: fc})
	if err != nil {
		t.Fatal(err)
	}
	if mux == nil {
		mux = http.NewServeMux()
	}
	s := &service{obs: obs, srv: httptest.NewServer(obs.HTTP(mux)), debug: httptest.NewServer(obs.DebugHandler()), spans: spans}
	t.Cleanup(func() {
		s.srv.Close()
		s.debug.Close()
		if err := obs.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
		tp.Shutdown(context.Background())
	})
	return s
}

// get sends a request carrying traceID as its W3C trace context.
func (s *service) get(t *testing.T, path, traceID string) {
	t.Helper()
	req, _ := http.NewRequest("GET", s.srv.URL+path, nil)
	if traceID != "" {
		req.Header.Set("traceparent", fmt.Sprintf("00-%s-00f067aa0ba902b7-01", traceID))
	}
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// traces reads the debug handler's list.
func (s *service) traces(t *testing.T) []entry {
	t.Helper()
	resp, err := http.Get(s.debug.URL + "/debug/perfobs/api/traces")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list []entry
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatalf("api/traces: %v", err)
	}
	return list
}

// waitEntry waits for the snapshot covering traceID.
func (s *service) waitEntry(t *testing.T, traceID string) entry {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		for _, e := range s.traces(t) {
			for _, q := range e.Requests {
				if q.TraceID == traceID {
					return e
				}
			}
		}
	}
	t.Fatalf("no snapshot covers trace %s within 15 s", traceID)
	return entry{}
}

// file downloads a snapshot.
func (s *service) file(t *testing.T, e entry) io.ReadCloser {
	t.Helper()
	resp, err := http.Get(s.debug.URL + e.URL)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", e.URL, resp.Status)
	}
	return resp.Body
}
