package canary

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

// FuzzHistogramJSON: a histogram read from JSON never panics the statistics.
func FuzzHistogramJSON(f *testing.F) {
	f.Add([]byte(`{"le":["0.1","1","+Inf"],"cumulative":[5,9,10]}`))
	f.Add([]byte(`{"le":["+Inf"],"cumulative":[0]}`))
	f.Add([]byte(`{"le":["NaN","-1"],"cumulative":[1]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var h Histogram
		if err := json.Unmarshal(b, &h); err != nil {
			return
		}
		buckets := map[float64]float64{}
		for i, le := range h.Bounds {
			buckets[le] = h.Cumulative[i]
		}
		g, err := newHistogram(buckets)
		if err != nil {
			return
		}
		for _, q := range []float64{0.5, 0.99} {
			g.quantile(q, 0.95)
		}
		bs, pw, pb := compareBoundaries(g, g, 0.2, 0.002, 0.95)
		if math.IsNaN(pw) || math.IsNaN(pb) {
			t.Fatalf("NaN p-value from %s", b)
		}
		for _, bd := range bs {
			if math.IsNaN(bd.PWorse) {
				t.Fatalf("NaN boundary p-value from %s", b)
			}
		}
		if _, err := json.Marshal(g); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzParseTime: --start and --end values never panic, and what parses is a real time.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2026-12-01T20:00:00Z", "1764619200", "1764619200.5", "-1", "1e20", "2026-12-01T20:00:00.123+01:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := parseTime(s)
		if err == nil && tm.Before(time.Unix(-1<<40, 0)) {
			t.Fatalf("%q parsed to %v", s, tm)
		}
	})
}
