package alerts_test

import (
	"fmt"

	"github.com/perfobs/perfobs-go/alerts"
)

func ExampleLoad() {
	spec := []byte(`
version: 1
service: checkout
window: 28d
slos:
  - name: availability
    kind: availability
    objective: 99.9
  - name: latency
    kind: latency
    threshold: 250ms
    objective: 99
`)
	m, err := alerts.Load("slo.yaml", spec)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, w := range m.Windows {
		fmt.Printf("%s: %v/%v at %gx\n", w.Severity, w.Long, w.Short, w.Factor)
	}
	files, err := alerts.Generate(m)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range files {
		fmt.Println(f.Name)
	}
	// Output:
	// page: 1h0m0s/5m0s at 13.44x
	// page: 6h0m0s/30m0s at 5.6x
	// ticket: 24h0m0s/2h0m0s at 2.8x
	// ticket: 72h0m0s/6h0m0s at 0.9333x
	// checkout-slo-availability.yaml
	// checkout-slo-availability_test.yaml
	// checkout-slo-latency.yaml
	// checkout-slo-latency_test.yaml
	// checkout-go-runtime.yaml
	// checkout-go-runtime_test.yaml
}

func ExampleLoad_errors() {
	spec := []byte(`version: 1
service: checkout
window: 3d
slos:
  - name: latency
    kind: latency
    threshold: 300ms
    objective: 99
`)
	_, err := alerts.Load("slo.yaml", spec)
	fmt.Println(err)
	// Output:
	// slo.yaml:3: window: 3d: must be from 7d (the slowest ticket alert looks at 3d) to 365d: invalid value
	// slo.yaml:7: slos[0].threshold: 300ms: the latency threshold must be one of the buckets [0.005s 0.01s 0.025s 0.05s 0.075s 0.1s 0.25s 0.5s 0.75s 1s 2.5s 5s 7.5s 10s]: not a bucket boundary
}
