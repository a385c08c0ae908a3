package echoadapter_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/perfobs/perfobs-go/internal/routertest"
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
	routertest.Check(t, routertest.Counts(t, reg), map[string]uint64{
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
	routertest.Allocs(with, "GET", "/users/1") // the first request creates its series
	if b, w := routertest.Allocs(bare, "GET", "/users/1"), routertest.Allocs(with, "GET", "/users/1"); w > b+routertest.Slack() {
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

// TestNoOtherRouter: this module requires its own router only, and the SDK's module none.
func TestNoOtherRouter(t *testing.T) { routertest.OnlyOwnRouter(t, "echo") }
