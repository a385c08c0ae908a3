package recorder_test

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/perfobs/perfobs-go/internal/recorder"
)

func ExampleHistogramVec() {
	type route struct{ path string }
	vec, _ := recorder.NewHistogramVec[route]("request_duration_seconds", "Duration.", []string{"route"},
		recorder.Shape{Bounds: []float64{0.1, 1}, Scale: 1e-9}) // observations in nanoseconds, exposed in seconds
	var shards recorder.ShardPicker
	for _, d := range []time.Duration{50 * time.Millisecond, 300 * time.Millisecond, 2 * time.Second} {
		tok := shards.Get()
		h := vec.GetOrCreate(route{"/users/{id}"}, func() []string { return []string{"/users/{id}"} })
		vec.Observe(h, tok.Shard, int64(d))
		shards.Put(tok)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(vec)
	mfs, _ := reg.Gather()
	hist := mfs[0].GetMetric()[0].GetHistogram()
	for _, b := range hist.GetBucket() {
		fmt.Printf("le=%v: %d\n", b.GetUpperBound(), b.GetCumulativeCount())
	}
	fmt.Printf("count=%d sum=%v\n", hist.GetSampleCount(), hist.GetSampleSum())
	// Output:
	// le=0.1: 1
	// le=1: 2
	// count=3 sum=2.35
}
