package muxadapter_test

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/handlers"
	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/perfobs/perfobs-go/internal/routertest"
	"github.com/perfobs/perfobs-go/leaktest"
	"github.com/perfobs/perfobs-go/middleware"
	"github.com/perfobs/perfobs-go/middleware/muxadapter"
)

func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }

func routes(r *mux.Router) {
	r.HandleFunc("/users/{id:[0-9]+}", func(w http.ResponseWriter, r *http.Request) {}).Methods("GET")
	r.HandleFunc("/items/{sku}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }).Methods("POST")
	r.HandleFunc("/panic", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	api := r.PathPrefix("/api").Subrouter()
	api.HandleFunc("/orders/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(202) })
}

func TestRoutes(t *testing.T) {
	reg := prometheus.NewRegistry()
	r := mux.NewRouter()
	routes(r)
	quiet := handlers.RecoveryLogger(log.New(io.Discard, "", 0))
	h := handlers.RecoveryHandler(quiet)(muxadapter.Middleware(middleware.WithRegisterer(reg))(r))
	for _, c := range []struct{ method, path string }{
		{"GET", "/users/1"}, {"GET", "/users/22"}, {"POST", "/items/a"}, {"GET", "/api/orders/7"},
		{"GET", "/zzz"}, {"GET", "/users/abc"}, {"DELETE", "/users/1"}, {"GET", "/panic"},
	} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(c.method, c.path, nil))
	}
	routertest.Check(t, routertest.Counts(t, reg), map[string]uint64{
		"GET /users/{id:[0-9]+} 200": 2,
		"POST /items/{sku} 500 500":  1,
		"GET /api/orders/{id} 202":   1,
		"GET _unmatched 404":         2,
		"DELETE _unmatched 405":      1,
		"GET /panic 500 panic":       1, // RecoveryHandler, outside, saw the panic after it was recorded
	})
}

// TestInsideTheRouter: given a route's handler (Router.Use) instead of the router, the middleware
// still names the route, for matched requests only (gorilla/mux runs Use middleware for nothing else).
func TestInsideTheRouter(t *testing.T) {
	reg := prometheus.NewRegistry()
	r := mux.NewRouter()
	r.Use(muxadapter.Middleware(middleware.WithRegisterer(reg)))
	routes(r)
	for _, p := range []string{"/users/1", "/zzz"} {
		r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", p, nil))
	}
	routertest.Check(t, routertest.Counts(t, reg), map[string]uint64{"GET /users/{id:[0-9]+} 200": 1})
}

// TestNoAllocationAdded: wrapped around the router, the adapter adds no heap allocation.
func TestNoAllocationAdded(t *testing.T) {
	bare := mux.NewRouter()
	routes(bare)
	r := mux.NewRouter()
	routes(r)
	with := muxadapter.Middleware(middleware.WithRegisterer(prometheus.NewRegistry()))(r)
	routertest.Allocs(with, "GET", "/users/1") // the first request creates its series
	if b, w := routertest.Allocs(bare, "GET", "/users/1"), routertest.Allocs(with, "GET", "/users/1"); w > b+routertest.Slack() {
		t.Fatalf("gorilla/mux alone: %v allocations per request, with the adapter %v", b, w)
	}
}

func TestInvalidOptions(t *testing.T) {
	defer func() {
		if p, _ := recover().(string); !strings.HasPrefix(p, "muxadapter.Middleware: ") || !strings.Contains(p, "WithMethodFilter") {
			t.Fatalf("panic %q, want one naming muxadapter.Middleware and the option", p)
		}
	}()
	muxadapter.Middleware(middleware.WithMethodFilter(func(string) bool { return true }))
}

// TestNoOtherRouter: this module requires its own router only, and the SDK's module none.
func TestNoOtherRouter(t *testing.T) { routertest.OnlyOwnRouter(t, "mux") }
