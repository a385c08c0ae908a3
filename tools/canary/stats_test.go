package canary

import (
	"math"
	"testing"
)

func TestPropTestZeroErrorsAreData(t *testing.T) {
	tests := []struct {
		name           string
		xB, nB, xC, nC float64
		worse          bool
	}{
		{"no errors on either side", 0, 5000, 0, 5000, false},
		{"no errors on the baseline, some on the canary", 0, 5000, 100, 5000, true},
		{"no errors on the canary", 100, 5000, 0, 5000, false},
		{"within the absolute tolerance", 2, 5000, 6, 5000, false},
		{"tiny samples", 0, 1, 1, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pw, pb := propTest(tt.xB, tt.nB, tt.xC, tt.nC, DefaultErrorRatioTolerance, DefaultErrorAbsTolerance)
			if math.IsNaN(pw) || math.IsNaN(pb) || pw < 0 || pw > 1 {
				t.Fatalf("p-values %v %v", pw, pb)
			}
			if got := pw < 0.001; got != tt.worse {
				t.Errorf("p(worse) = %v, want worse=%v", pw, tt.worse)
			}
		})
	}
}

func TestHolm(t *testing.T) {
	got := holm([]float64{0.01, 0.04, 0.03, 0.005})
	want := []float64{0.03, 0.06, 0.06, 0.02}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Fatalf("holm = %v, want %v", got, want)
		}
	}
}

func TestQuantileInterval(t *testing.T) {
	h := hist(1000, 3000, 4000, 1500, 400, 80, 20) // 10,000 requests
	q := h.quantile(0.99, 0.95)
	if !(q.Lo <= q.Value && q.Value <= q.Hi) || q.Value < 0.075 || q.Value > 0.1 {
		t.Fatalf("p99 %+v: want inside (75ms, 100ms] with lo <= value <= hi", q)
	}
	lo, hi := wilson(0, 1000, 0.95)
	if lo > 1e-12 || hi <= 0 || hi > 0.01 {
		t.Fatalf("Wilson interval of 0/1000: [%v, %v]", lo, hi)
	}
}

func TestCostFloorAndTolerance(t *testing.T) {
	c := Config{}.withDefaults()
	if r := c.compareSeries("gc_cpu_share", steady(60, 0.003), steady(60, 0.0045)); r.P != 1 {
		t.Errorf("GC share 0.3%% -> 0.45%%: p %v, want 1 (inside the absolute floor): %s", r.P, r.Effect)
	}
	if r := c.compareSeries("gc_cpu_share", steady(60, 0.03), steady(60, 0.06)); r.P > 1e-6 {
		t.Errorf("GC share 3%% -> 6%%: p %v, want significant: %s", r.P, r.Effect)
	}
	if r := c.compareSeries("goroutines", steady(60, 40), steady(60, 44)); r.P != 1 {
		t.Errorf("goroutines +10%%: p %v, want 1 (inside the 25%% tolerance)", r.P)
	}
	if r := c.compareSeries("goroutines", steady(20, 40), steady(20, 400)); r.Status != StatusNoData {
		t.Errorf("20 points: status %s, want nodata below min_points", r.Status)
	}
}

func TestExtraMetricDirection(t *testing.T) {
	yes := true
	traffic := func() map[Group]*Traffic {
		return map[Group]*Traffic{{Kind: "http", Route: "/orders", Method: "POST"}: {Latency: hist(1000, 3000, 4000, 1500, 400, 80, 20)}}
	}
	for _, tt := range []struct {
		dir       Direction
		can       float64
		want      Verdict
		wantState Status
	}{
		{Decrease, 50, Fail, StatusLow},   // lower hit ratio is worse
		{Decrease, 150, Pass, StatusHigh}, // higher is better: reported, not failed
		{Increase, 50, Pass, StatusLow},
		{Either, 150, Fail, StatusHigh},
	} {
		cfg := Config{Metrics: []MetricConfig{{Name: "hit_ratio", Query: "x{ {{selector}} }", Direction: tt.dir, Judged: Judged{Critical: &yes}}}}
		base := SideData{Groups: traffic(), Series: map[string][]float64{"hit_ratio": steady(60, 100)}}
		can := SideData{Groups: traffic(), Series: map[string][]float64{"hit_ratio": steady(60, tt.can)}}
		rep := Compare(cfg, base, can)
		var got Status
		for _, r := range rep.Results {
			if r.Metric == "hit_ratio" {
				got = r.Status
			}
		}
		if rep.Verdict != tt.want || got != tt.wantState {
			t.Errorf("%s, canary %v: verdict %s status %s, want %s %s (%v)", tt.dir, tt.can, rep.Verdict, got, tt.want, tt.wantState, rep.Reasons)
		}
	}
}
