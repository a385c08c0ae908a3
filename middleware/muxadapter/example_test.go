package muxadapter_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/middleware"
	"github.com/perfobs/perfobs-go/middleware/muxadapter"
)

func ExampleMiddleware() {
	reg := prometheus.NewRegistry()
	r := mux.NewRouter()
	r.HandleFunc("/users/{id}", func(w http.ResponseWriter, r *http.Request) {})
	h := muxadapter.Middleware(middleware.WithRegisterer(reg))(r) // wrap the router itself
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/users/42", nil))

	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == catalog.HTTPServerDuration {
			for _, l := range mf.GetMetric()[0].GetLabel() {
				if l.GetName() == catalog.LabelRoute {
					fmt.Println(l.GetValue())
				}
			}
		}
	}
	// Output: /users/{id}
}
