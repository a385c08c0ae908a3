package reliability

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/perfobs"
)

// A collector of the service that panics does not take /metrics, or the process, down: the
// scrape serves everything else and perfobs_collector_panics_total counts the panic.
func Example_panickingCollector() {
	obs, err := perfobs.Start(context.Background(), perfobs.Config{Service: "example", LookupEnv: noEnv,
		Logger: quietLogger(), DisableRuntimeMetrics: true})
	if err != nil {
		panic(err)
	}
	defer obs.Shutdown(context.Background())
	orders := prometheus.NewCounter(prometheus.CounterOpts{Name: "orders_placed_total", Help: "Orders."})
	orders.Add(3)
	broken := panickingCollector{prometheus.NewDesc("broken_panicking", "Panics.", nil, nil)}
	obs.Registerer().MustRegister(orders, broken)

	scrape := func() {
		w := httptest.NewRecorder()
		obs.MetricsHandler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
		fmt.Println("status", w.Code)
		for _, line := range strings.Split(w.Body.String(), "\n") {
			if strings.HasPrefix(line, "orders_placed_total ") || strings.HasPrefix(line, "broken_panicking ") {
				fmt.Println(line)
			}
		}
	}
	scrape()
	// Read the counter once the broken collector is gone (a scrape collects both at once).
	obs.Registerer().Unregister(broken)
	mfs, _ := obs.Gatherer().Gather()
	for _, mf := range mfs {
		if mf.GetName() == catalog.CollectorPanics {
			fmt.Println(mf.GetName(), mf.GetMetric()[0].GetCounter().GetValue())
		}
	}
	// Output:
	// status 200
	// orders_placed_total 3
	// perfobs_collector_panics_total 1
}
