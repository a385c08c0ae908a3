package muxadapter_test

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/gorilla/handlers"
	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/perfobs/perfobs-go/catalog"
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
	check(t, counts(t, reg), map[string]uint64{
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
	check(t, counts(t, reg), map[string]uint64{"GET /users/{id:[0-9]+} 200": 1})
}

// TestNoAllocationAdded: wrapped around the router, the adapter adds no heap allocation.
func TestNoAllocationAdded(t *testing.T) {
	bare := mux.NewRouter()
	routes(bare)
	r := mux.NewRouter()
	routes(r)
	with := muxadapter.Middleware(middleware.WithRegisterer(prometheus.NewRegistry()))(r)
	allocs(with, "GET", "/users/1") // the first request creates its series
	if b, w := allocs(bare, "GET", "/users/1"), allocs(with, "GET", "/users/1"); w > b+slack() {
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

// counts returns the sample count of each http_route and status of the server duration
// histogram, and the error_type of each.
func counts(t *testing.T, reg *prometheus.Registry) map[string]uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint64{}
	for _, mf := range mfs {
		if mf.GetName() != catalog.HTTPServerDuration {
			continue
		}
		for _, m := range mf.GetMetric() {
			l := map[string]string{}
			for _, p := range m.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			k := l[catalog.LabelMethod] + " " + l[catalog.LabelRoute] + " " + l[catalog.LabelStatusCode]
			if e := l[catalog.LabelErrorType]; e != "" {
				k += " " + e
			}
			out[k] += m.GetHistogram().GetSampleCount()
		}
	}
	return out
}

func check(t *testing.T, got, want map[string]uint64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("series %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%q: count %d, want %d (all: %v)", k, got[k], v, got)
		}
	}
}

// discard is a reusable ResponseWriter, so that allocation counts are the router's and the
// middleware's only.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

// slack is the allocations per request a comparison tolerates: none, but under the race detector
// sync.Pool drops a quarter of what it is given, and the router's pools, the adapter's and the
// middleware's then cost up to one allocation per request on average.
func slack() float64 {
	if raceEnabled {
		return 1
	}
	return 0
}

func allocs(h http.Handler, method, path string) float64 {
	w := &discard{h: http.Header{}}
	r := httptest.NewRequest(method, path, nil)
	return testing.AllocsPerRun(1000, func() { // many runs: under -race sync.Pool drops some items
		clear(w.h)
		h.ServeHTTP(w, r)
	})
}

// TestNoOtherRouter: this module requires its own router only, and the SDK's module none.
func TestNoOtherRouter(t *testing.T) {
	routers := map[string]string{"gin": "github.com/gin-gonic/gin", "echo": "github.com/labstack/echo",
		"chi": "github.com/go-chi/chi", "mux": "github.com/gorilla/mux"}
	for file, own := range map[string]string{"go.mod": "mux", "../../go.mod": ""} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for name, path := range routers {
			if has := strings.Contains(string(b), path); has != (name == own) {
				t.Errorf("%s: requires %s: %v, want %v", file, path, has, name == own)
			}
		}
	}
}
