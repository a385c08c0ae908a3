package ginadapter_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/perfobs/perfobs-go/internal/routertest"
	"github.com/perfobs/perfobs-go/leaktest"
	"github.com/perfobs/perfobs-go/middleware"
	"github.com/perfobs/perfobs-go/middleware/ginadapter"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.ReleaseMode)
	leaktest.VerifyTestMain(m)
}

func routes(r *gin.Engine) {
	r.HandleMethodNotAllowed = true
	r.GET("/users/:id", func(c *gin.Context) { c.String(200, "user") })
	r.POST("/users/:id", func(c *gin.Context) { c.Status(http.StatusCreated) })
	r.GET("/files/*path", func(c *gin.Context) { c.AbortWithStatus(http.StatusServiceUnavailable) })
	r.GET("/panic", func(c *gin.Context) { panic("boom") })
}

func TestRoutes(t *testing.T) {
	reg := prometheus.NewRegistry()
	r := gin.New()
	r.Use(gin.RecoveryWithWriter(io.Discard), ginadapter.Middleware(middleware.WithRegisterer(reg)))
	routes(r)
	for _, c := range []struct{ method, path string }{
		{"GET", "/users/1"}, {"GET", "/users/2"}, {"POST", "/users/3"}, {"GET", "/files/a/b"},
		{"GET", "/nope"}, {"DELETE", "/users/1"}, {"GET", "/panic"},
	} {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(c.method, c.path, nil))
	}
	routertest.Check(t, routertest.Counts(t, reg), map[string]uint64{
		"GET /users/:id 200":       2,
		"POST /users/:id 201":      1,
		"GET /files/*path 503 503": 1,
		"GET _unmatched 404":       1,
		"DELETE _unmatched 405":    1,
		"GET /panic 500 panic":     1, // gin.Recovery, outside, answered after the adapter recorded the panic
	})
}

// TestNoAllocationAdded: the adapter adds no heap allocation to a request.
func TestNoAllocationAdded(t *testing.T) {
	bare := gin.New()
	routes(bare)
	with := gin.New()
	with.Use(ginadapter.Middleware(middleware.WithRegisterer(prometheus.NewRegistry())))
	routes(with)
	routertest.Allocs(with, "GET", "/users/1") // the first request creates its series
	if b, w := routertest.Allocs(bare, "GET", "/users/1"), routertest.Allocs(with, "GET", "/users/1"); w > b+routertest.Slack() {
		t.Fatalf("gin alone: %v allocations per request, with the adapter %v", b, w)
	}
}

func TestInvalidOptions(t *testing.T) {
	defer func() {
		if p, _ := recover().(string); !strings.HasPrefix(p, "ginadapter.Middleware: ") || !strings.Contains(p, "WithMethodFilter") {
			t.Fatalf("panic %q, want one naming ginadapter.Middleware and the option", p)
		}
	}()
	ginadapter.Middleware(middleware.WithMethodFilter(func(string) bool { return true }))
}

// TestNoOtherRouter: this module requires its own router only, and the SDK's module none.
func TestNoOtherRouter(t *testing.T) { routertest.OnlyOwnRouter(t, "gin") }
