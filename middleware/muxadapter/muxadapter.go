// Package muxadapter records RED metrics for a gorilla/mux router (github.com/gorilla/mux) with
// the perfobs-go middleware, with the matched route's path template as http_route:
//
//	r := mux.NewRouter()
//	r.HandleFunc("/users/{id:[0-9]+}", getUser) // recorded as http_route="/users/{id:[0-9]+}"
//	srv.Handler = handlers.RecoveryHandler()(muxadapter.Middleware(middleware.WithRegisterer(reg))(r))
//
// Wrap the router itself, as above: gorilla/mux runs the middleware of Router.Use only for
// matched routes, and builds their chain for every request, so wrapped around the router the
// middleware also records the requests that matched no route (404) or no method (405), as
// http_route "_unmatched", and adds no allocation. Applied to the router, Middleware installs a
// hook with Router.Use that names the route before the handler runs, so a panic keeps its route;
// a recovery handler outside sees the panic after it was recorded. Given any other handler (with
// Router.Use), it still works, at the cost of one allocation per request. It takes the options of
// package middleware and panics only when they are invalid. docs/middleware.md has the detail.
package muxadapter

import (
	"net/http"
	"sync"

	"github.com/gorilla/mux"

	"github.com/perfobs/perfobs-go/middleware"
)

// Middleware returns gorilla/mux middleware that records every request, named by the path
// template of its route. Apply it to the router (Middleware(opts...)(router)). It panics only on
// invalid options.
func Middleware(opts ...middleware.Option) mux.MiddlewareFunc {
	rec, err := middleware.New(append([]middleware.Option{middleware.WithRouteFunc(pathTemplate)}, opts...)...)
	if err != nil {
		panic("muxadapter.Middleware: " + err.Error())
	}
	return func(next http.Handler) http.Handler {
		if router, ok := next.(*mux.Router); ok {
			h := &hook{}
			router.Use(h.middleware)
		}
		return middleware.HTTP(next, rec)
	}
}

// pathTemplate is the route function for the middleware placed inside the router (Router.Use),
// where the request carries its route.
func pathTemplate(r *http.Request) string {
	if route := mux.CurrentRoute(r); route != nil {
		if tpl, err := route.GetPathTemplate(); err == nil {
			return tpl
		}
	}
	return ""
}

// hook is the router-side half: gorilla/mux calls its middleware for every matched request, and
// the handler it returns names the route through middleware.SetRoute. Its handlers are pooled,
// since the router asks for one per request.
type hook struct{ pool sync.Pool }

func (h *hook) middleware(next http.Handler) http.Handler {
	rh, _ := h.pool.Get().(*routeHook)
	if rh == nil {
		rh = &routeHook{pool: &h.pool}
	}
	rh.next = next
	return rh
}

type routeHook struct {
	next http.Handler
	pool *sync.Pool
}

func (rh *routeHook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	next := rh.next
	rh.next = nil
	rh.pool.Put(rh) // next is copied: the hook may serve another request already
	if tpl := pathTemplate(r); tpl != "" {
		middleware.SetRoute(w, tpl)
	}
	next.ServeHTTP(w, r)
}
