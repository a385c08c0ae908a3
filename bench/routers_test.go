package bench

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/go-chi/chi/v5"
	"github.com/gorilla/mux"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/perfobs/perfobs-go/middleware"
	"github.com/perfobs/perfobs-go/middleware/chiadapter"
	"github.com/perfobs/perfobs-go/middleware/echoadapter"
	"github.com/perfobs/perfobs-go/middleware/ginadapter"
	"github.com/perfobs/perfobs-go/middleware/muxadapter"
)

// These tests live in the bench module so that the routers never enter the SDK's go.mod.

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

// The router adapters' overhead: each router, with one parameterised route, bare and with its
// adapter, over the same request and writer. The adapter's overhead is its time minus Bare's.
func BenchmarkRouters(b *testing.B) {
	gin.SetMode(gin.ReleaseMode)
	ok := func(w http.ResponseWriter, r *http.Request) { w.Write(hello) }
	ginEngine := func(use ...gin.HandlerFunc) http.Handler {
		e := gin.New()
		e.Use(use...)
		e.GET("/users/:id", func(c *gin.Context) { c.Writer.Write(hello) })
		return e
	}
	echoServer := func(use ...echo.MiddlewareFunc) http.Handler {
		e := echo.New()
		e.Use(use...)
		e.GET("/users/:id", func(c echo.Context) error { _, err := c.Response().Write(hello); return err })
		return e
	}
	chiRouter := func(use ...func(http.Handler) http.Handler) http.Handler {
		r := chi.NewRouter()
		r.Use(use...)
		r.Get("/users/{id}", ok)
		return r
	}
	muxRouter := func() *mux.Router {
		r := mux.NewRouter()
		r.HandleFunc("/users/{id}", ok).Methods("GET")
		return r
	}
	opts := func() middleware.Option { return middleware.WithRegisterer(prometheus.NewRegistry()) }
	// echo asks every middleware for a handler on every request; the fair bare case has one
	// middleware that only calls next.
	passThrough := func(next echo.HandlerFunc) echo.HandlerFunc { return func(c echo.Context) error { return next(c) } }
	for _, c := range []struct {
		name string
		h    http.Handler
	}{
		{"Gin/Bare", ginEngine()},
		{"Gin/Adapter", ginEngine(ginadapter.Middleware(opts()))},
		{"Echo/Bare", echoServer(passThrough)},
		{"Echo/Adapter", echoServer(echoadapter.Middleware(opts()))},
		{"Chi/Bare", chiRouter()},
		{"Chi/Adapter", chiRouter(chiadapter.Middleware(opts()))},
		{"Mux/Bare", muxRouter()},
		{"Mux/Adapter", muxadapter.Middleware(opts())(muxRouter())},
	} {
		b.Run(c.name, func(b *testing.B) {
			w := &discardWriter{h: http.Header{}}
			r := httptest.NewRequest("GET", "/users/42", nil)
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				c.h.ServeHTTP(w, r)
			}
		})
	}
}
