package middleware_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/perfobs/perfobs-go/middleware"
)

func ExampleHTTP() {
	reg := prometheus.NewRegistry()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "user %s", r.PathValue("id"))
	})
	handler := middleware.HTTP(mux, middleware.WithRegisterer(reg))

	for _, path := range []string{"/users/1", "/users/2", "/nope"} {
		handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}

	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() != "http_server_request_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			fmt.Printf("%s %s %s: %d\n", labels["http_request_method"], labels["http_route"],
				labels["http_response_status_code"], m.GetHistogram().GetSampleCount())
		}
	}
	// Unordered output:
	// GET /users/{id} 200: 2
	// GET _unmatched 404: 1
}

func ExampleSetRoute() {
	reg := prometheus.NewRegistry()
	// A router the middleware cannot ask tells it the route from inside.
	router := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		middleware.SetRoute(w, "/legacy/{page}")
	})
	handler := middleware.HTTP(router, middleware.WithRegisterer(reg))
	handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/legacy/about", nil))

	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() != "http_server_request_duration_seconds" {
			continue
		}
		for _, l := range mf.GetMetric()[0].GetLabel() {
			if l.GetName() == "http_route" {
				fmt.Println(l.GetValue())
			}
		}
	}
	// Output: /legacy/{page}
}

func ExampleRouteFromPattern() {
	for _, p := range []string{"GET /users/{id}", "example.com/static/", "POST /{$}", "DELETE"} {
		fmt.Printf("%q\n", middleware.RouteFromPattern(p))
	}
	// Output:
	// "/users/{id}"
	// "/static/"
	// "/"
	// ""
}
