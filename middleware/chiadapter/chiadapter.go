// Package chiadapter records RED metrics for a chi router (github.com/go-chi/chi/v5) with the
// perfobs-go middleware, with chi's route pattern as http_route:
//
//	r := chi.NewRouter()
//	r.Use(chimw.Recoverer, chiadapter.Middleware(middleware.WithRegisterer(reg)))
//	r.Get("/users/{id}", getUser) // recorded as http_route="/users/{id}"
//
// Install it with Use, before the routes, so that it also sees the requests chi answers itself:
// no route (404) and a method the route does not have (405) are recorded as http_route
// "_unmatched". Put a recovery middleware before it (outside), so that a panic is recorded as a
// panic on its way out. It takes the options of package middleware and panics only when they are
// invalid, at construction. docs/middleware.md has the detail.
package chiadapter

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/perfobs/perfobs-go/middleware"
)

// Middleware returns chi middleware that records every request the router serves, named by its
// route pattern. It panics only on invalid options.
func Middleware(opts ...middleware.Option) func(http.Handler) http.Handler {
	// The route function runs once the request was served, even after a panic, and reads the
	// pattern chi accumulated in its route context (no allocation for a route without sub-routers).
	rec, err := middleware.New(append([]middleware.Option{middleware.WithRouteFunc(routePattern)}, opts...)...)
	if err != nil {
		panic("chiadapter.Middleware: " + err.Error())
	}
	return func(next http.Handler) http.Handler { return middleware.HTTP(next, rec) }
}

func routePattern(r *http.Request) string {
	if rc := chi.RouteContext(r.Context()); rc != nil {
		return rc.RoutePattern()
	}
	return ""
}
