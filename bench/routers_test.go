package bench

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/perfobs/perfobs-go/middleware"
)

// These tests live in the bench module so that chi and gorilla/mux never enter the SDK's go.mod.

func routeCounts(t *testing.T, reg *prometheus.Registry) map[string]uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint64{}
	for _, mf := range mfs {
		if mf.GetName() != "http_server_request_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			out[label(m, "http_route")+" "+label(m, "http_response_status_code")] += m.GetHistogram().GetSampleCount()
		}
	}
	return out
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func TestChiRoutes(t *testing.T) {
	reg := prometheus.NewRegistry()
	r := chi.NewRouter()
	r.Use(func(next http.Handler) http.Handler {
		return middleware.HTTP(next, middleware.WithRegisterer(reg), middleware.WithRouteFunc(func(r *http.Request) string {
			return chi.RouteContext(r.Context()).RoutePattern()
		}))
	})
	r.Get("/users/{id}", func(w http.ResponseWriter, r *http.Request) {})
	r.Route("/orgs/{org}", func(r chi.Router) {
		r.Get("/repos/{repo}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(202) })
	})
	for _, p := range []string{"/users/1", "/users/2", "/orgs/go/repos/x", "/nope"} {
		r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", p, nil))
	}
	got := routeCounts(t, reg)
	want := map[string]uint64{"/users/{id} 200": 2, "/orgs/{org}/repos/{repo} 202": 1, "_unmatched 404": 1}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %d, want %d (all: %v)", k, got[k], v, got)
		}
	}
}

func TestGorillaMuxRoutes(t *testing.T) {
	reg := prometheus.NewRegistry()
	r := mux.NewRouter()
	r.Use(func(next http.Handler) http.Handler {
		return middleware.HTTP(next, middleware.WithRegisterer(reg), middleware.WithRouteFunc(func(r *http.Request) string {
			route := mux.CurrentRoute(r)
			if route == nil {
				return ""
			}
			tpl, _ := route.GetPathTemplate()
			return tpl
		}))
	})
	r.HandleFunc("/users/{id:[0-9]+}", func(w http.ResponseWriter, r *http.Request) {}).Methods("GET")
	r.HandleFunc("/items/{sku}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }).Methods("POST")
	for _, c := range []struct{ m, p string }{{"GET", "/users/1"}, {"GET", "/users/22"}, {"POST", "/items/a"}, {"GET", "/zzz"}} {
		r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(c.m, c.p, nil))
	}
	got := routeCounts(t, reg)
	// gorilla/mux runs its middleware only for matched routes; unmatched requests reach its
	// NotFoundHandler without it (wrap the router itself to count them).
	want := map[string]uint64{"/users/{id:[0-9]+} 200": 2, "/items/{sku} 500": 1}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %d, want %d (all: %v)", k, got[k], v, got)
		}
	}
}
