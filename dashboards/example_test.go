package dashboards_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/perfobs/perfobs-go/alerts"
	"github.com/perfobs/perfobs-go/dashboards"
)

// What `perfobs generate --spec slo.yaml --out deploy/` does for dashboards: one JSON file per
// dashboard in deploy/dashboards, ready for Grafana's file provisioning, written by the same
// writer as the rules (which also removes dashboards a previous run wrote and this one does not).
func ExampleBuild() {
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
	files, err := dashboards.Build(m,
		dashboards.WithProfilesURL("https://pyroscope.example.com/explore?query=process_cpu%3Acpu%3Ananoseconds%3Acpu%3Ananoseconds%7Bservice_name%3D%22${job}%22%7D&from=${__from}&until=${__to}"))
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
	paths, _, err := alerts.WriteFiles(filepath.Join(dir, "dashboards"), files)
	if err != nil {
		fmt.Println(err)
		return
	}
	for i, p := range paths {
		var d struct{ Title, UID string }
		if err := json.Unmarshal(files[i].Data, &d); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s: %s (uid %s)\n", filepath.Base(p), d.Title, d.UID)
	}
	// Output:
	// service-red.json: Service RED (uid perfobs-red)
	// go-runtime.json: Go runtime (uid perfobs-go-runtime)
	// slo.json: SLOs and error budgets: checkout (uid perfobs-slo-checkout)
}
