package canary

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"

	"gonum.org/v1/gonum/stat/distuv"
)

// Histogram is a latency distribution over a window: the count of requests at or below each
// bucket boundary (cumulative, as Prometheus's le buckets), the last boundary +Inf.
type Histogram struct {
	Bounds     []float64 `json:"bounds"`     // ascending upper bounds, the last one +Inf
	Cumulative []float64 `json:"cumulative"` // requests <= each bound
}

// newHistogram builds a histogram from le -> cumulative increase pairs. Increases are
// extrapolated per series, so the cumulative counts may dip by a fraction between neighbouring
// buckets; a running maximum keeps them monotonic. It needs a +Inf bucket.
func newHistogram(buckets map[float64]float64) (Histogram, error) {
	var h Histogram
	for le := range buckets {
		h.Bounds = append(h.Bounds, le)
	}
	sort.Float64s(h.Bounds)
	if len(h.Bounds) == 0 || !math.IsInf(h.Bounds[len(h.Bounds)-1], 1) {
		return Histogram{}, fmt.Errorf("histogram without a +Inf bucket (le values %v)", h.Bounds)
	}
	run := 0.0
	for _, le := range h.Bounds {
		v := buckets[le]
		if math.IsNaN(v) || v < 0 {
			v = 0
		}
		run = math.Max(run, v)
		h.Cumulative = append(h.Cumulative, run)
	}
	return h, nil
}

// parseLe reads a bucket's le label.
func parseLe(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("bad le label %q: %w", s, err)
	}
	return v, nil
}

// Total is the number of requests.
func (h Histogram) Total() float64 {
	if len(h.Cumulative) == 0 {
		return 0
	}
	return h.Cumulative[len(h.Cumulative)-1]
}

// add sums another histogram with the same boundaries into h (a missing h takes o's shape).
func (h *Histogram) add(o Histogram) error {
	if len(h.Bounds) == 0 {
		h.Bounds = append([]float64(nil), o.Bounds...)
		h.Cumulative = append([]float64(nil), o.Cumulative...)
		return nil
	}
	if !sameBounds(h.Bounds, o.Bounds) {
		return fmt.Errorf("bucket boundaries differ: %v and %v", h.Bounds, o.Bounds)
	}
	for i := range h.Cumulative {
		h.Cumulative[i] += o.Cumulative[i]
	}
	return nil
}

func sameBounds(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// rankValue maps a rank (0..Total) to a latency, interpolating linearly inside the bucket as
// histogram_quantile does; ranks in the +Inf bucket give the highest finite boundary.
func (h Histogram) rankValue(rank float64) float64 {
	n := h.Total()
	if n == 0 || len(h.Bounds) < 2 {
		return math.NaN()
	}
	rank = math.Max(0, math.Min(n, rank))
	i := sort.Search(len(h.Cumulative), func(i int) bool { return h.Cumulative[i] >= rank })
	if i >= len(h.Bounds)-1 {
		return h.Bounds[len(h.Bounds)-2]
	}
	lo, below := 0.0, 0.0
	if i > 0 {
		lo, below = h.Bounds[i-1], h.Cumulative[i-1]
	}
	hi := h.Bounds[i]
	in := h.Cumulative[i] - below
	if in <= 0 {
		return hi
	}
	return lo + (hi-lo)*(rank-below)/in
}

// Quantile is a quantile estimate with a confidence interval.
type Quantile struct {
	Q     float64 `json:"q"`
	Value float64 `json:"value"`
	Lo    float64 `json:"lo"`
	Hi    float64 `json:"hi"`
}

// quantile estimates the q-quantile and its distribution-free interval: the ranks n*q -+ z
// sqrt(n q (1-q)) of the order statistics (the binomial interval), mapped through the histogram.
func (h Histogram) quantile(q, conf float64) Quantile {
	n := h.Total()
	z := distuv.UnitNormal.Quantile(1 - (1-conf)/2)
	half := z * math.Sqrt(n*q*(1-q))
	return Quantile{Q: q, Value: h.rankValue(n * q), Lo: h.rankValue(n*q - half), Hi: h.rankValue(n*q + half + 1)}
}

// Boundary is the comparison at one bucket boundary: the fraction of requests slower than it.
type Boundary struct {
	Le       float64 `json:"le"`
	Baseline float64 `json:"baseline_fraction"`
	Canary   float64 `json:"canary_fraction"`
	// CanaryLo and CanaryHi bound the canary's fraction (Wilson, at the report's confidence).
	CanaryLo float64 `json:"canary_lo"`
	CanaryHi float64 `json:"canary_hi"`
	PWorse   float64 `json:"p_worse"`
	PBetter  float64 `json:"p_better"`
}

// minCell is the smallest count of pooled exceedances and of pooled non-exceedances for a
// boundary to be tested: below it the normal approximations are poor.
const minCell = 10

// compareBoundaries tests every finite boundary with enough pooled counts and returns them with
// the Bonferroni-adjusted smallest p-values of each direction (1 when none was testable).
func compareBoundaries(b, c Histogram, ratioTol, absTol, conf float64) (bs []Boundary, pWorse, pBetter float64) {
	nB, nC := b.Total(), c.Total()
	pWorse, pBetter = 1, 1
	minW, minB := 1.0, 1.0
	k := 0
	for i := 0; i < len(b.Bounds)-1; i++ {
		xB, xC := nB-b.Cumulative[i], nC-c.Cumulative[i]
		if xB+xC < minCell || (nB-xB)+(nC-xC) < minCell {
			continue
		}
		k++
		pw, pb := propTest(xB, nB, xC, nC, ratioTol, absTol)
		lo, hi := wilson(xC, nC, conf)
		bs = append(bs, Boundary{Le: b.Bounds[i], Baseline: xB / nB, Canary: xC / nC, CanaryLo: lo, CanaryHi: hi, PWorse: pw, PBetter: pb})
		minW, minB = math.Min(minW, pw), math.Min(minB, pb)
	}
	if k > 0 {
		pWorse, pBetter = math.Min(1, float64(k)*minW), math.Min(1, float64(k)*minB)
	}
	return bs, pWorse, pBetter
}

// MarshalJSON writes the boundaries as Prometheus writes le labels ("+Inf" for the last), since
// JSON has no infinity.
func (h Histogram) MarshalJSON() ([]byte, error) {
	les := make([]string, len(h.Bounds))
	for i, b := range h.Bounds {
		les[i] = formatLe(b)
	}
	return json.Marshal(struct {
		Le         []string  `json:"le"`
		Cumulative []float64 `json:"cumulative"`
	}{les, h.Cumulative})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (h *Histogram) UnmarshalJSON(b []byte) error {
	var v struct {
		Le         []string  `json:"le"`
		Cumulative []float64 `json:"cumulative"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if len(v.Le) != len(v.Cumulative) {
		return fmt.Errorf("histogram: %d le values and %d counts", len(v.Le), len(v.Cumulative))
	}
	h.Bounds, h.Cumulative = make([]float64, len(v.Le)), v.Cumulative
	for i, s := range v.Le {
		le, err := parseLe(s)
		if err != nil {
			return err
		}
		h.Bounds[i] = le
	}
	return nil
}

func formatLe(b float64) string {
	if math.IsInf(b, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(b, 'g', -1, 64)
}

// MarshalJSON writes non-finite values (an empty side) as null.
func (q Quantile) MarshalJSON() ([]byte, error) {
	f := func(x float64) *float64 {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
		return &x
	}
	return json.Marshal(struct {
		Q     float64  `json:"q"`
		Value *float64 `json:"value"`
		Lo    *float64 `json:"lo"`
		Hi    *float64 `json:"hi"`
	}{q.Q, f(q.Value), f(q.Lo), f(q.Hi)})
}
