package echoadapter_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/leaktest"
	"github.com/perfobs/perfobs-go/middleware"
	"github.com/perfobs/perfobs-go/middleware/echoadapter"
)

func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }

func routes(e *echo.Echo) {
	e.GET("/users/:id", func(c echo.Context) error { return c.String(200, "user") })
	e.POST("/users/:id", func(c echo.Context) error { return c.NoContent(http.StatusCreated) })
	e.GET("/teapot", func(c echo.Context) error { return echo.NewHTTPError(http.StatusTeapot) })
	e.GET("/fail", func(c echo.Context) error { return errors.New("db down") })
	e.GET("/panic", func(c echo.Context) error { panic("boom") })
}

func TestRoutes(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := echo.New()
	e.Use(echomw.RecoverWithConfig(echomw.RecoverConfig{DisablePrintStack: true}), echoadapter.Middleware(middleware.WithRegisterer(reg)))
	routes(e)
	for _, c := range []struct{ method, path string }{
		{"GET", "/users/1"}, {"GET", "/users/2"}, {"POST", "/users/3"}, {"GET", "/teapot"}, {"GET", "/fail"},
		{"GET", "/nope"}, {"DELETE", "/users/1"}, {"GET", "/panic"},
	} {
		e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(c.method, c.path, nil))
	}
	check(t, counts(t, reg), map[string]uint64{
		"GET /users/:id 200":    2,
		"POST /users/:id 201":   1,
		"GET /teapot 418":       1, // the error's status, written by echo's error handler inside the measurement
		"GET /fail 500 500":     1,
		"GET _unmatched 404":    1,
		"DELETE _unmatched 405": 1,
		"GET /panic 500 panic":  1, // Recover, outside, answered after the adapter recorded the panic
	})
}

// TestAllocationsAdded: echo builds its middleware chain for every request, so any echo
// middleware costs the closure echo asks it for; the adapter adds nothing beyond that, compared
// with a middleware that only calls next.
func TestAllocationsAdded(t *testing.T) {
	bare := echo.New()
	bare.Use(func(next echo.HandlerFunc) echo.HandlerFunc { return func(c echo.Context) error { return next(c) } })
	routes(bare)
	with := echo.New()
	with.Use(echoadapter.Middleware(middleware.WithRegisterer(prometheus.NewRegistry())))
	routes(with)
	allocs(with, "GET", "/users/1") // the first request creates its series
	if b, w := allocs(bare, "GET", "/users/1"), allocs(with, "GET", "/users/1"); w > b+slack() {
		t.Fatalf("echo with a pass-through middleware: %v allocations per request, with the adapter %v", b, w)
	}
}

func TestInvalidOptions(t *testing.T) {
	defer func() {
		if p, _ := recover().(string); !strings.HasPrefix(p, "echoadapter.Middleware: ") || !strings.Contains(p, "WithMethodFilter") {
			t.Fatalf("panic %q, want one naming echoadapter.Middleware and the option", p)
		}
	}()
	echoadapter.Middleware(middleware.WithMethodFilter(func(string) bool { return true }))
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
	for file, own := range map[string]string{"go.mod": "echo", "../../go.mod": ""} {
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
