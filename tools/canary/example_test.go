package canary_test

import (
	"fmt"
	"math"

	"github.com/perfobs/perfobs-go/tools/canary"
)

// Compare judges data already read from Prometheus: here one route whose canary sends twice as
// many requests beyond 50 ms and has more errors.
func ExampleCompare() {
	bounds := []float64{0.01, 0.05, 0.1, math.Inf(1)}
	orders := canary.Group{Kind: "http", Route: "/orders", Method: "POST"}
	base := canary.SideData{Selector: `track="stable"`, Groups: map[canary.Group]*canary.Traffic{
		orders: {Latency: canary.Histogram{Bounds: bounds, Cumulative: []float64{6000, 19000, 19800, 20000}}, Errors: 20},
	}}
	can := canary.SideData{Selector: `track="canary"`, Groups: map[canary.Group]*canary.Traffic{
		orders: {Latency: canary.Histogram{Bounds: bounds, Cumulative: []float64{6000, 18000, 19500, 20000}}, Errors: 400},
	}}
	rep := canary.Compare(canary.Config{}, base, can)
	fmt.Println("verdict:", rep.Verdict)
	for _, r := range rep.Failing() {
		if !r.Group.Service() {
			fmt.Println("worse:", r.Scope, r.Metric)
		}
	}
	// Output:
	// verdict: fail
	// worse: POST /orders latency
	// worse: POST /orders errors
}

// ParseSelector reads a side's matchers, or a bare version joined through target_info.
func ExampleParseSelector() {
	s, _ := canary.ParseSelector(`job="checkout", track="canary"`)
	fmt.Println(len(s.Matchers), s.Matchers[1].Name, s.Matchers[1].Value)
	v, _ := canary.ParseSelector("1.4.2")
	fmt.Println(v.Version[0])
	// Output:
	// 2 track canary
	// service_version="1.4.2"
}
