// Package echoadapter records RED metrics for an echo v4 server (github.com/labstack/echo/v4)
// with the perfobs-go middleware, with echo's route path (Context.Path) as http_route. echo does
// not set the request's Pattern, so the plain middleware around it records every request as
// "_unmatched"; this adapter is echo middleware that names the route:
//
//	e := echo.New()
//	e.Use(echomw.Recover(), echoadapter.Middleware(middleware.WithRegisterer(reg)))
//	e.GET("/users/:id", getUser) // recorded as http_route="/users/:id"
//
// Install it with Use, so that it also sees the requests echo answers itself: no route (404) and
// a method the route does not have (405) are recorded as http_route "_unmatched". A handler's
// error goes to echo's error handler inside the measurement, so its status is the one recorded.
// Put echo's Recover before it (outside), so that a panic is recorded as a panic on its way out.
// It takes the options of package middleware and panics only when they are invalid, at
// construction. docs/middleware.md has the detail.
package echoadapter

import (
	"net/http"
	"reflect"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/perfobs/perfobs-go/middleware"
)

// echo answers requests that matched no route, or no method, with these handlers.
var (
	notFound         = reflect.ValueOf(echo.NotFoundHandler).Pointer()
	methodNotAllowed = reflect.ValueOf(echo.MethodNotAllowedHandler).Pointer()
)

// Middleware returns echo middleware that records every request, named by its route path. It
// panics only on invalid options.
func Middleware(opts ...middleware.Option) echo.MiddlewareFunc {
	rec, err := middleware.New(opts...)
	if err != nil {
		panic("echoadapter.Middleware: " + err.Error())
	}
	h := middleware.HTTP(http.HandlerFunc(serve), rec)
	var pool sync.Pool // *writer
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			w, _ := pool.Get().(*writer)
			if w == nil {
				w = new(writer)
			}
			w.ResponseWriter, w.c, w.next = c.Response().Writer, c, next
			h.ServeHTTP(w, c.Request())
			err := w.err
			*w = writer{}
			pool.Put(w) // not reached on a panic: the writer is then left to the garbage collector
			return err
		}
	}
}

// writer carries the echo context and the rest of the chain to serve through the middleware,
// which wraps it.
type writer struct {
	http.ResponseWriter // echo's Response.Writer
	c                   echo.Context
	next                echo.HandlerFunc
	err                 error
}

// Unwrap returns echo's writer, for http.ResponseController.
func (w *writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// serve runs the rest of echo's chain inside the middleware, with echo's Response writing through
// the middleware's writer.
func serve(w http.ResponseWriter, r *http.Request) {
	ew := find(w)
	c := ew.c
	c.SetRequest(r) // with tracing, r carries the server span
	resp := c.Response()
	resp.Writer = w
	defer func() { resp.Writer = ew.ResponseWriter }() // also on a panic: the middleware's writer is pooled
	if route := routeOf(c); route != "" {
		middleware.SetRoute(w, route) // before the handler: a panic keeps its route
	}
	if err := ew.next(c); err != nil {
		ew.err = err
		c.Error(err) // writes the error's status now, inside the measurement; echo skips a committed response
	}
}

// routeOf is the route path, or "" for a request that matched no route or no method.
func routeOf(c echo.Context) string {
	switch reflect.ValueOf(c.Handler()).Pointer() {
	case notFound, methodNotAllowed:
		return ""
	}
	return c.Path()
}

// find walks from the middleware's writer down to the adapter's.
func find(w http.ResponseWriter) *writer {
	for {
		switch x := w.(type) {
		case *writer:
			return x
		case interface{ Unwrap() http.ResponseWriter }:
			w = x.Unwrap()
		default:
			panic("echoadapter: the middleware's writer does not unwrap to the adapter's")
		}
	}
}
