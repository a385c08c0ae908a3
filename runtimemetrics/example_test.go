package runtimemetrics_test

import (
	"fmt"
	"io"
	"net/http/httptest"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/perfobs/perfobs-go/runtimemetrics"
)

func ExampleRegister() {
	reg := prometheus.NewRegistry()
	err := runtimemetrics.Register(reg,
		runtimemetrics.WithService("checkout"),
		runtimemetrics.WithVersion("1.4.2"),
		runtimemetrics.WithEnvironment("production"))
	if err != nil {
		fmt.Println(err)
		return
	}

	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()

	for line := range strings.Lines(string(body)) {
		if strings.HasPrefix(line, "# TYPE go_sched_latencies_seconds") ||
			strings.HasPrefix(line, "# TYPE go_gc_gomemlimit_bytes") ||
			strings.HasPrefix(line, "target_info{") {
			// Print target_info without the Go and module versions, which vary.
			line, _, _ = strings.Cut(line, ",go_module_path")
			fmt.Println(strings.TrimSpace(line))
		}
	}
	// Output:
	// # TYPE go_gc_gomemlimit_bytes gauge
	// # TYPE go_sched_latencies_seconds histogram
	// target_info{deployment_environment_name="production"
}
