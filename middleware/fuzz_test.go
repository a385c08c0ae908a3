package middleware_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/perfobs/perfobs-go/middleware"
)

// FuzzRouteFromPattern: for every pattern the ServeMux accepts, the route is a path template that
// is a suffix-free substring of the pattern starting with '/', and the function never panics.
func FuzzRouteFromPattern(f *testing.F) {
	for _, s := range []string{"GET /users/{id}", "/", "GET example.com/a/{b...}", "POST /{$}", "  GET   /x", "h/{$}", "", "GET"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, pattern string) {
		route := middleware.RouteFromPattern(pattern)
		if route == "" {
			return
		}
		if route[0] != '/' || !strings.Contains(pattern, route) {
			t.Fatalf("pattern %q gave route %q", pattern, route)
		}
		if !validPattern(pattern) {
			return
		}
		if strings.HasSuffix(route, "{$}") {
			t.Fatalf("pattern %q: route %q keeps {$}", pattern, route)
		}
	})
}

// validPattern reports whether http.ServeMux accepts pattern (it panics on invalid ones).
func validPattern(p string) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	http.NewServeMux().Handle(p, http.NotFoundHandler())
	return true
}
