package alerts_test

import (
	"bytes"
	"fmt"

	"go.yaml.in/yaml/v3"

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

// With histograms: native the rules read the native series, and a latency threshold must be a
// native bucket boundary, where histogram_fraction counts exactly.
func ExampleLoad_nativeHistograms() {
	spec := []byte(`version: 1
service: checkout
histograms: native
runtime: {disabled: true}
slos:
  - name: latency
    kind: latency
    threshold: 500ms
    objective: 99
`)
	m, err := alerts.Load("slo.yaml", spec)
	if err != nil {
		fmt.Println(err)
		return
	}
	files, err := alerts.Generate(m)
	if err != nil {
		fmt.Println(err)
		return
	}
	var rules struct {
		Groups []struct {
			Rules []struct{ Record, Expr string }
		}
	}
	if err := yaml.Unmarshal(files[0].Data, &rules); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(files[0].Name)
	fmt.Println(rules.Groups[0].Rules[0].Record)
	fmt.Println(rules.Groups[0].Rules[0].Expr)

	_, err = alerts.Load("slo.yaml", bytes.Replace(spec, []byte("500ms"), []byte("300ms"), 1))
	fmt.Println(err)
	// Output:
	// checkout-slo-latency.yaml
	// perfobs_slo:requests:rate5m
	// sum (histogram_count(rate(http_server_request_duration_seconds{job="checkout"}[5m])))
	// slo.yaml:8: slos[0].threshold: 300ms: with histograms: native the latency threshold must be a native bucket boundary (schema 3: a power of 2^(1/8) seconds, such as 250ms, 500ms, 1s or 2s), where histogram_fraction counts the requests within it exactly rather than by interpolating inside a bucket; the nearest are 297.301779ms and 324.209889ms: not a bucket boundary
}
