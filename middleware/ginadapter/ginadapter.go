// Package ginadapter records RED metrics for a gin engine (github.com/gin-gonic/gin) with the
// perfobs-go middleware, with gin's route template (Context.FullPath) as http_route. gin does not
// set the request's Pattern, so the plain middleware around an engine records every request as
// "_unmatched"; this adapter is gin middleware that names the route:
//
//	r := gin.New()
//	r.Use(gin.Recovery(), ginadapter.Middleware(middleware.WithRegisterer(reg)))
//	r.GET("/users/:id", getUser) // recorded as http_route="/users/:id"
//
// Install it with Use, so that it also sees the requests gin answers itself: no route (404) and,
// with HandleMethodNotAllowed, a method the route does not have (405) are recorded as http_route
// "_unmatched". Put gin.Recovery before it (outside), as gin.Default does, so that a panic is
// recorded as a panic on its way to the recovery. It takes the options of package middleware and
// panics only when they are invalid, at construction. Handlers write through gin's own writer, so
// the response body size (middleware.WithBodySizes) is not recorded. docs/middleware.md has the
// detail.
package ginadapter

import (
	"net/http"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/perfobs/perfobs-go/middleware"
)

// Middleware returns gin middleware that records every request, named by its route template.
// It panics only on invalid options.
func Middleware(opts ...middleware.Option) gin.HandlerFunc {
	rec, err := middleware.New(opts...)
	if err != nil {
		panic("ginadapter.Middleware: " + err.Error())
	}
	h := middleware.HTTP(http.HandlerFunc(serve), rec)
	var pool sync.Pool // *writer
	return func(c *gin.Context) {
		w, _ := pool.Get().(*writer)
		if w == nil {
			w = new(writer)
		}
		w.ResponseWriter, w.c = c.Writer, c
		h.ServeHTTP(w, c.Request)
		w.ResponseWriter, w.c = nil, nil
		pool.Put(w) // not reached on a panic: the writer is then left to the garbage collector
	}
}

// writer carries the gin context to serve through the middleware, which wraps it.
type writer struct {
	http.ResponseWriter // gin's writer
	c                   *gin.Context
}

// Unwrap returns gin's writer, for http.ResponseController.
func (w *writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// serve runs the rest of gin's chain inside the middleware.
func serve(w http.ResponseWriter, r *http.Request) {
	gw := find(w)
	c := gw.c
	c.Request = r // with tracing, r carries the server span
	if route := c.FullPath(); route != "" {
		middleware.SetRoute(w, route) // before the handlers: a panic keeps its route
	}
	c.Next()
	// Handlers wrote through gin's writer, which knows the status (404 and 405 included, set
	// before the chain runs); passing the same status on to gin's writer changes nothing.
	w.WriteHeader(c.Writer.Status())
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
			panic("ginadapter: the middleware's writer does not unwrap to the adapter's")
		}
	}
}
