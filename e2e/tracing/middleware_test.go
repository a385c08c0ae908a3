package tracing_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/internal/testkit/oteltest"
	"github.com/perfobs/perfobs-go/middleware"
)

func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]string {
	out := map[attribute.Key]string{}
	for _, kv := range s.Attributes() {
		out[kv.Key] = kv.Value.String()
	}
	return out
}

const (
	remoteTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	remoteSpan  = "00f067aa0ba902b7"
)

func TestServerSpans(t *testing.T) {
	tests := []struct {
		name        string
		pattern     string
		handler     http.HandlerFunc
		method, url string
		traceparent string
		spanName    string
		attrs       map[attribute.Key]string
		status      codes.Code
		events      int
	}{
		{"route names the span and parents follow traceparent", "GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {},
			"GET", "http://api.example:8080/users/42", "00-" + remoteTrace + "-" + remoteSpan + "-01", "GET /users/{id}",
			map[attribute.Key]string{"http.request.method": "GET", "http.route": "/users/{id}", "url.path": "/users/42",
				"url.scheme": "http", "server.address": "api.example", "server.port": "8080", "http.response.status_code": "200",
				"network.protocol.version": "1.1", "client.address": "192.0.2.1", "user_agent.original": "probe/1"},
			codes.Unset, 0},
		{"5xx is an error", "POST /pay", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) },
			"POST", "/pay", "", "POST /pay",
			map[attribute.Key]string{"http.response.status_code": "503", "error.type": "503"}, codes.Error, 0},
		{"4xx is not a server error", "GET /x", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(404) },
			"GET", "/x", "", "GET /x", map[attribute.Key]string{"http.response.status_code": "404"}, codes.Unset, 0},
		{"panic is an error with an exception event", "GET /boom", func(w http.ResponseWriter, r *http.Request) { panic("kaput") },
			"GET", "/boom", "", "GET /boom", map[attribute.Key]string{"error.type": "panic", "http.response.status_code": "500"}, codes.Error, 1},
		{"unmatched route leaves the method alone", "GET /known", func(w http.ResponseWriter, r *http.Request) {},
			"GET", "/unknown", "", "GET", map[attribute.Key]string{"http.response.status_code": "404"}, codes.Unset, 0},
		{"unknown method", "/any", func(w http.ResponseWriter, r *http.Request) {},
			"BREW", "/any", "", "HTTP /any", map[attribute.Key]string{"http.request.method": "_OTHER", "http.request.method_original": "BREW"}, codes.Unset, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp, sr := oteltest.New(t)
			mux := http.NewServeMux()
			mux.Handle(tt.pattern, tt.handler)
			h := middleware.HTTP(mux, middleware.WithRegisterer(prometheus.NewRegistry()), middleware.WithTracerProvider(tp))
			req := httptest.NewRequest(tt.method, tt.url, nil)
			req.Header.Set("User-Agent", "probe/1")
			if tt.traceparent != "" {
				req.Header.Set("traceparent", tt.traceparent)
			}
			func() {
				defer func() { recover() }()
				h.ServeHTTP(httptest.NewRecorder(), req)
			}()
			spans := sr.Ended()
			if len(spans) != 1 {
				t.Fatalf("%d spans ended, want 1", len(spans))
			}
			s := spans[0]
			if s.Name() != tt.spanName || s.SpanKind() != trace.SpanKindServer {
				t.Errorf("span %q kind %v, want %q server", s.Name(), s.SpanKind(), tt.spanName)
			}
			got := attrs(s)
			for k, v := range tt.attrs {
				if got[k] != v {
					t.Errorf("attribute %s = %q, want %q (all: %v)", k, got[k], v, got)
				}
			}
			if tt.status != codes.Error {
				if _, ok := got["error.type"]; ok {
					t.Errorf("error.type set on a success: %v", got)
				}
			}
			if s.Status().Code != tt.status {
				t.Errorf("status %v, want %v", s.Status(), tt.status)
			}
			if len(s.Events()) != tt.events {
				t.Errorf("%d events, want %d", len(s.Events()), tt.events)
			}
			if tt.traceparent != "" {
				if s.SpanContext().TraceID().String() != remoteTrace || s.Parent().SpanID().String() != remoteSpan || !s.Parent().IsRemote() {
					t.Errorf("trace %s parent %s, want %s %s (remote)", s.SpanContext().TraceID(), s.Parent().SpanID(), remoteTrace, remoteSpan)
				}
			} else if s.Parent().IsValid() {
				t.Errorf("root request has parent %v", s.Parent())
			}
		})
	}
}

// TestHandlerSeesSpanAndBaggage: the handler's context carries the server span and the caller's
// baggage.
func TestHandlerSeesSpanAndBaggage(t *testing.T) {
	tp, sr := oteltest.New(t)
	var gotSpan trace.SpanContext
	var gotBaggage string
	mux := http.NewServeMux()
	mux.HandleFunc("GET /b", func(w http.ResponseWriter, r *http.Request) {
		gotSpan = trace.SpanContextFromContext(r.Context())
		gotBaggage = baggage.FromContext(r.Context()).Member("tenant").Value()
	})
	h := middleware.HTTP(mux, middleware.WithRegisterer(prometheus.NewRegistry()), middleware.WithTracerProvider(tp))
	req := httptest.NewRequest("GET", "/b", nil)
	req.Header.Set("baggage", "tenant=acme")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if len(sr.Ended()) != 1 || gotSpan.SpanID() != sr.Ended()[0].SpanContext().SpanID() {
		t.Errorf("handler saw span %v, want the server span", gotSpan.SpanID())
	}
	if gotBaggage != "acme" {
		t.Errorf("baggage tenant %q, want acme", gotBaggage)
	}
}

// TestClientToServerPropagation: Transport's client span is the parent of the server span across
// a real connection, baggage travels, and the caller's request is not changed.
func TestClientToServerPropagation(t *testing.T) {
	tp, sr := oteltest.New(t)
	mux := http.NewServeMux()
	var serverBaggage string
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		serverBaggage = baggage.FromContext(r.Context()).Member("tenant").Value()
		if r.PathValue("id") == "bad" {
			w.WriteHeader(500)
		}
	})
	reg := prometheus.NewRegistry()
	srv := httptest.NewServer(middleware.HTTP(mux, middleware.WithRegisterer(reg), middleware.WithTracerProvider(tp)))
	defer srv.Close()
	client := &http.Client{Transport: middleware.Transport(nil, middleware.WithRegisterer(reg), middleware.WithTracerProvider(tp))}
	defer client.CloseIdleConnections()

	m, _ := baggage.NewMember("tenant", "acme")
	b, _ := baggage.New(m)
	for _, tc := range []struct {
		id     string
		status codes.Code
	}{{"1", codes.Unset}, {"bad", codes.Error}} {
		t.Run(tc.id, func(t *testing.T) {
			sr.Reset()
			req, _ := http.NewRequestWithContext(baggage.ContextWithBaggage(context.Background(), b), "GET", srv.URL+"/items/"+tc.id, nil)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if len(req.Header) != 0 {
				t.Errorf("Transport changed the caller's request headers: %v", req.Header)
			}
			var server, clientSpan sdktrace.ReadOnlySpan
			for _, s := range sr.Ended() {
				switch s.SpanKind() {
				case trace.SpanKindServer:
					server = s
				case trace.SpanKindClient:
					clientSpan = s
				}
			}
			if server == nil || clientSpan == nil {
				t.Fatalf("want a server and a client span, got %d spans", len(sr.Ended()))
			}
			if server.Parent().SpanID() != clientSpan.SpanContext().SpanID() || server.SpanContext().TraceID() != clientSpan.SpanContext().TraceID() {
				t.Errorf("server span's parent %v, want the client span %v", server.Parent().SpanID(), clientSpan.SpanContext().SpanID())
			}
			if clientSpan.Name() != "GET" || clientSpan.Status().Code != tc.status || server.Status().Code != tc.status {
				t.Errorf("client span %q status %v, server status %v; want GET %v", clientSpan.Name(), clientSpan.Status(), server.Status(), tc.status)
			}
			ca := attrs(clientSpan)
			if ca["server.address"] != "127.0.0.1" || ca["url.full"] != srv.URL+"/items/"+tc.id || ca["http.request.method"] != "GET" {
				t.Errorf("client attributes %v", ca)
			}
			if serverBaggage != "acme" {
				t.Errorf("server saw baggage tenant %q, want acme", serverBaggage)
			}
		})
	}
}

// TestClientSpanOnTransportError: a failed round trip ends the client span with an error status,
// error.type and an exception event; credentials never reach url.full.
func TestClientSpanOnTransportError(t *testing.T) {
	tp, sr := oteltest.New(t)
	rt := middleware.Transport(roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.Header.Get("traceparent") == "" {
			t.Error("no traceparent on the outgoing request")
		}
		return nil, context.DeadlineExceeded
	}), middleware.WithRegisterer(prometheus.NewRegistry()), middleware.WithTracerProvider(tp))
	req := httptest.NewRequest("GET", "http://user:secret@api.internal:9000/x", nil)
	if _, err := rt.RoundTrip(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
	s := sr.Ended()[0]
	a := attrs(s)
	if s.Status().Code != codes.Error || a["error.type"] != "timeout" || len(s.Events()) != 1 {
		t.Errorf("status %v attributes %v events %d", s.Status(), a, len(s.Events()))
	}
	if strings.Contains(a["url.full"], "secret") || a["url.full"] != "http://api.internal:9000/x" || a["server.port"] != "9000" {
		t.Errorf("url.full %q server.port %q", a["url.full"], a["server.port"])
	}
}

// exemplarsOf returns the trace ids of the exemplars on metric name in reg.
func exemplarsOf(t *testing.T, reg prometheus.Gatherer, name string) []string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	add := func(e *dto.Exemplar) {
		for _, l := range e.GetLabel() {
			if l.GetName() == "trace_id" {
				ids = append(ids, l.GetValue())
			}
		}
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, b := range m.GetHistogram().GetBucket() {
				if e := b.GetExemplar(); e != nil {
					add(e)
				}
			}
		}
	}
	return ids
}

// TestExemplarsFromSampledSpans: a sampled request leaves its trace id on its bucket, for the
// server and the client histogram; a request whose caller did not sample leaves none. The
// OpenMetrics exposition shows it.
func TestExemplarsFromSampledSpans(t *testing.T) {
	tp, sr := oteltest.New(t)
	reg := prometheus.NewRegistry()
	h := middleware.HTTP(benchMux(), middleware.WithRegisterer(reg), middleware.WithTracerProvider(tp))

	unsampled := httptest.NewRequest("GET", "/users/1", nil)
	unsampled.Header.Set("traceparent", "00-"+remoteTrace+"-"+remoteSpan+"-00")
	h.ServeHTTP(httptest.NewRecorder(), unsampled)
	if ids := exemplarsOf(t, reg, catalog.HTTPServerDuration); len(ids) != 0 || len(sr.Ended()) != 0 {
		t.Fatalf("unsampled request left exemplars %v and %d spans", ids, len(sr.Ended()))
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/users/2", nil))
	ids := exemplarsOf(t, reg, catalog.HTTPServerDuration)
	if len(ids) != 1 || ids[0] != sr.Ended()[0].SpanContext().TraceID().String() {
		t.Fatalf("exemplars %v, want the sampled span's trace id %s", ids, sr.Ended()[0].SpanContext().TraceID())
	}

	rt := middleware.Transport(roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
	}), middleware.WithRegisterer(reg), middleware.WithTracerProvider(tp))
	rt.RoundTrip(httptest.NewRequest("GET", "http://api.internal/x", nil))
	cids := exemplarsOf(t, reg, "http_client_request_duration_seconds")
	if len(cids) != 1 || cids[0] != sr.Ended()[1].SpanContext().TraceID().String() {
		t.Fatalf("client exemplars %v, want the client span's trace id", cids)
	}

	w := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Accept", "application/openmetrics-text; version=1.0.0")
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true}).ServeHTTP(w, req)
	// client_golang writes exemplar labels in map order, so look for both on one bucket line.
	found := false
	for _, line := range strings.Split(w.Body.String(), "\n") {
		if strings.HasPrefix(line, catalog.HTTPServerDuration+"_bucket{") && strings.Contains(line, `trace_id="`+ids[0]+`"`) &&
			strings.Contains(line, `span_id="`+sr.Ended()[0].SpanContext().SpanID().String()+`"`) {
			found = true
		}
	}
	if !found {
		t.Errorf("OpenMetrics exposition lacks the exemplar:\n%s", w.Body.String())
	}
}

// TestCustomPropagator: WithPropagator replaces the default, here with baggage only, so a
// traceparent header is ignored.
func TestCustomPropagator(t *testing.T) {
	tp, sr := oteltest.New(t)
	h := middleware.HTTP(benchMux(), middleware.WithRegisterer(prometheus.NewRegistry()),
		middleware.WithTracerProvider(tp), middleware.WithPropagator(propagation.Baggage{}))
	req := httptest.NewRequest("GET", "/users/1", nil)
	req.Header.Set("traceparent", "00-"+remoteTrace+"-"+remoteSpan+"-01")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if s := sr.Ended()[0]; s.Parent().IsValid() {
		t.Errorf("span has parent %v with a baggage-only propagator", s.Parent())
	}
}

// TestNativeHistogramsOption: WithNativeHistograms adds native buckets to the server and client
// histograms, and a second middleware on the registry with the other setting is refused.
func TestNativeHistogramsOption(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := middleware.HTTP(benchMux(), middleware.WithRegisterer(reg), middleware.WithNativeHistograms())
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/users/1", nil))
	mfs, _ := reg.Gather()
	found := false
	for _, mf := range mfs {
		if mf.GetName() == catalog.HTTPServerDuration {
			hist := mf.GetMetric()[0].GetHistogram()
			found = hist.GetSchema() == 3 && len(hist.GetPositiveSpan()) == 1 && len(hist.GetBucket()) > 0
		}
	}
	if !found {
		t.Fatal("no native and classic buckets on the duration histogram")
	}
	if _, err := middleware.New(middleware.WithRegisterer(reg)); err == nil || !strings.Contains(err.Error(), "WithNativeHistograms") {
		t.Fatalf("second middleware without native histograms: err %v, want a WithNativeHistograms conflict", err)
	}
}

func TestTracingOptionErrors(t *testing.T) {
	tests := []struct {
		name string
		opts []middleware.Option
		want string
	}{
		{"nil provider", []middleware.Option{middleware.WithTracerProvider(nil)}, "WithTracerProvider: provider is nil"},
		{"propagator without tracing", []middleware.Option{middleware.WithPropagator(propagation.TraceContext{})}, "WithPropagator: tracing is off"},
		{"nil propagator", []middleware.Option{middleware.WithTracerProvider(noop.NewTracerProvider()), middleware.WithPropagator(nil)}, "WithPropagator: propagator is nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := middleware.New(append(tt.opts, middleware.WithRegisterer(prometheus.NewRegistry()))...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func benchMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("hello")) })
	return mux
}
