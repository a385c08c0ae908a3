package chiadapter_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"
	chimw "github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/perfobs/perfobs-go/internal/routertest"
	"github.com/perfobs/perfobs-go/leaktest"
	"github.com/perfobs/perfobs-go/middleware"
	"github.com/perfobs/perfobs-go/middleware/chiadapter"
)

func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }

func newRouter(reg *prometheus.Registry) *chi.Mux {
	r := chi.NewRouter()
	r.Use(chimw.Recoverer, chiadapter.Middleware(middleware.WithRegisterer(reg)))
	r.Get("/users/{id}", func(w http.ResponseWriter, r *http.Request) {})
	r.Post("/users/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) })
	r.Route("/orgs/{org}", func(r chi.Router) {
		r.Get("/repos/{repo}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusAccepted) })
	})
	r.Get("/panic/{n}", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	return r
}

func TestRoutes(t *testing.T) {
	reg := prometheus.NewRegistry()
	r := newRouter(reg)
	for _, c := range []struct{ method, path string }{
		{"GET", "/users/1"}, {"GET", "/users/2"}, {"POST", "/users/3"}, {"GET", "/orgs/go/repos/x"},
		{"GET", "/nope"}, {"DELETE", "/users/1"}, {"GET", "/panic/1"},
	} {
		r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(c.method, c.path, nil))
	}
	routertest.Check(t, routertest.Counts(t, reg), map[string]uint64{
		"GET /users/{id} 200":              2,
		"POST /users/{id} 201":             1,
		"GET /orgs/{org}/repos/{repo} 202": 1,
		"GET _unmatched 404":               1,
		"DELETE _unmatched 405":            1,
		// chi's Recoverer, outside, answers 500 after the adapter recorded the panic.
		"GET /panic/{n} 500 panic": 1,
	})
}

// TestNoAllocationAdded: the adapter adds no heap allocation to a request on a flat route.
func TestNoAllocationAdded(t *testing.T) {
	bare := chi.NewRouter()
	bare.Get("/users/{id}", func(w http.ResponseWriter, r *http.Request) {})
	with := chi.NewRouter()
	with.Use(chiadapter.Middleware(middleware.WithRegisterer(prometheus.NewRegistry())))
	with.Get("/users/{id}", func(w http.ResponseWriter, r *http.Request) {})
	routertest.Allocs(with, "GET", "/users/1") // the first request creates its series
	if b, w := routertest.Allocs(bare, "GET", "/users/1"), routertest.Allocs(with, "GET", "/users/1"); w > b+routertest.Slack() {
		t.Fatalf("chi alone: %v allocations per request, with the adapter %v", b, w)
	}
}

func TestInvalidOptions(t *testing.T) {
	defer func() {
		if p, _ := recover().(string); p == "" || p[:len("chiadapter.Middleware: ")] != "chiadapter.Middleware: " {
			t.Fatalf("panic %q, want one naming chiadapter.Middleware", p)
		}
	}()
	chiadapter.Middleware(middleware.WithMethodFilter(func(string) bool { return true }))
}

// TestNoOtherRouter: this module requires its own router only, and the SDK's module none.
func TestNoOtherRouter(t *testing.T) { routertest.OnlyOwnRouter(t, "chi") }
