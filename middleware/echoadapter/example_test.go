package echoadapter_test

import (
	"fmt"
	"net/http/httptest"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/middleware"
	"github.com/perfobs/perfobs-go/middleware/echoadapter"
)

func ExampleMiddleware() {
	reg := prometheus.NewRegistry()
	e := echo.New()
	e.Use(echoadapter.Middleware(middleware.WithRegisterer(reg)))
	e.GET("/users/:id", func(c echo.Context) error { return c.NoContent(200) })
	e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/users/42", nil))

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
	// Output: /users/:id
}
