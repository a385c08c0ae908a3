package dashboards_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/perfobs/perfobs-go/alerts"
	"github.com/perfobs/perfobs-go/dashboards"
)

// WriteAll is what `perfobs generate --spec slo.yaml --out deploy/` does for dashboards: one
// JSON file per dashboard in deploy/dashboards, ready for Grafana's file provisioning.
func ExampleWriteAll() {
	spec := []byte(`version: 1
service: checkout
slos:
  - name: availability
    kind: availability
    objective: 99.9
`)
	m, err := alerts.Load("slo.yaml", spec)
	if err != nil {
		fmt.Println(err)
		return
	}
	dir, err := os.MkdirTemp("", "dashboards")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	paths, err := dashboards.WriteAll(m, filepath.Join(dir, "dashboards"),
		dashboards.WithProfilesURL("https://pyroscope.example.com/explore?query=process_cpu%3Acpu%3Ananoseconds%3Acpu%3Ananoseconds%7Bservice_name%3D%22${job}%22%7D&from=${__from}&until=${__to}"))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range paths {
		fmt.Println(filepath.Base(p))
	}
	// Output:
	// service-red.json
	// go-runtime.json
	// slo.json
}

// Build returns the dashboards as the SDK's types, to change or marshal them.
func ExampleBuild() {
	m, err := alerts.Load("slo.yaml", []byte(`version: 1
service: checkout
slos:
  - name: latency
    kind: latency
    threshold: 250ms
    objective: 99
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	files, err := dashboards.Build(m)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range files {
		fmt.Printf("%s: %s (uid %s)\n", f.Name, *f.Dashboard.Title, *f.Dashboard.Uid)
	}
	// Output:
	// service-red.json: Service RED (uid perfobs-red)
	// go-runtime.json: Go runtime (uid perfobs-go-runtime)
	// slo.json: SLOs and error budgets: checkout (uid perfobs-slo-checkout)
}
