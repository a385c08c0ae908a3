package chiadapter_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/middleware"
	"github.com/perfobs/perfobs-go/middleware/chiadapter"
)

func ExampleMiddleware() {
	reg := prometheus.NewRegistry()
	r := chi.NewRouter()
	r.Use(chiadapter.Middleware(middleware.WithRegisterer(reg)))
	r.Get("/users/{id}", func(w http.ResponseWriter, r *http.Request) {})
	r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/users/42", nil))

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
