package ginadapter_test

import (
	"fmt"
	"net/http/httptest"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/middleware"
	"github.com/perfobs/perfobs-go/middleware/ginadapter"
)

func ExampleMiddleware() {
	reg := prometheus.NewRegistry()
	r := gin.New()
	r.Use(ginadapter.Middleware(middleware.WithRegisterer(reg)))
	r.GET("/users/:id", func(c *gin.Context) { c.Status(200) })
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
	// Output: /users/:id
}
