package canary

import (
	"math"
	"sort"

	"golang.org/x/perf/benchmath"
	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// propTest compares two proportions, x of n on each side, and asks whether the canary's is worse
// than the baseline's by more than both tolerances: its ratio beyond 1+ratioTol and its
// difference beyond absTol. Each is a one-sided z test (the log risk ratio with Haldane's +0.5,
// the difference with Agresti-Caffo's +1/+2), and the p-value is the larger of the two: an
// intersection-union test, of level alpha when each part is. The corrections keep zero counts
// finite: no NaN from a baseline without errors (kayenta#377).
func propTest(xB, nB, xC, nC, ratioTol, absTol float64) (pWorse, pBetter float64) {
	pr := logRatioP(xB, nB, xC, nC, ratioTol)
	pd := diffP(xB, nB, xC, nC, absTol)
	pWorse = math.Max(pr, pd)
	// Better: the baseline worse than the canary by the same margins.
	pBetter = math.Max(logRatioP(xC, nC, xB, nB, ratioTol), diffP(xC, nC, xB, nB, absTol))
	return pWorse, pBetter
}

func logRatioP(xB, nB, xC, nC, ratioTol float64) float64 {
	a, b := xC+0.5, nC+0.5
	c, d := xB+0.5, nB+0.5
	lrr := math.Log(a/b) - math.Log(c/d)
	se := math.Sqrt(math.Max(1/a-1/b+1/c-1/d, 1e-300))
	z := (lrr - math.Log1p(ratioTol)) / se
	return distuv.UnitNormal.Survival(z)
}

func diffP(xB, nB, xC, nC, absTol float64) float64 {
	pc := (xC + 1) / (nC + 2)
	pb := (xB + 1) / (nB + 2)
	se := math.Sqrt(pc*(1-pc)/(nC+2) + pb*(1-pb)/(nB+2))
	z := (pc - pb - absTol) / se
	return distuv.UnitNormal.Survival(z)
}

// wilson is the Wilson score interval of x successes in n at the given confidence.
func wilson(x, n, conf float64) (lo, hi float64) {
	if n <= 0 {
		return 0, 1
	}
	z := distuv.UnitNormal.Quantile(1 - (1-conf)/2)
	p := x / n
	den := 1 + z*z/n
	mid := (p + z*z/(2*n)) / den
	half := z * math.Sqrt(p*(1-p)/n+z*z/(4*n*n)) / den
	return math.Max(0, mid-half), math.Min(1, mid+half)
}

// holm adjusts p-values for multiple comparisons with Holm's step-down procedure: comparing each
// adjusted value with alpha holds the family-wise error rate at alpha.
func holm(ps []float64) []float64 {
	idx := make([]int, len(ps))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return ps[idx[a]] < ps[idx[b]] })
	adj := make([]float64, len(ps))
	m := float64(len(ps))
	run := 0.0
	for k, i := range idx {
		v := math.Min(1, (m-float64(k))*ps[i])
		run = math.Max(run, v)
		adj[i] = run
	}
	return adj
}

// mannWhitney compares two step-sampled series with Mann-Whitney U (benchmath's
// assumption-free comparison, two-sided) and returns the p-value and the Hodges-Lehmann estimate
// of the shift (canary minus baseline), relative to the baseline's median.
func mannWhitney(base, can []float64) (p, relShift, shift float64) {
	b := append([]float64(nil), base...)
	c := append([]float64(nil), can...)
	th := benchmath.DefaultThresholds
	cmp := benchmath.AssumeNothing.Compare(benchmath.NewSample(b, &th), benchmath.NewSample(c, &th))
	diffs := make([]float64, 0, len(b)*len(c))
	for _, x := range c {
		for _, y := range b {
			diffs = append(diffs, x-y)
		}
	}
	sort.Float64s(diffs)
	hl := stat.Quantile(0.5, stat.Empirical, diffs, nil)
	med := stat.Quantile(0.5, stat.Empirical, b, nil) // b is sorted by NewSample
	switch {
	case med != 0:
		relShift = hl / math.Abs(med)
	case hl == 0:
		relShift = 0
	default:
		relShift = math.Copysign(math.Inf(1), hl)
	}
	return cmp.P, relShift, hl
}

// obrienFleming is the Lan-DeMets spending function of O'Brien-Fleming shape: the share of a
// one-sided alpha spent by information fraction t in [0, 1].
func obrienFleming(t, alpha float64) float64 {
	if t <= 0 {
		return 0
	}
	if t >= 1 {
		return alpha
	}
	z := distuv.UnitNormal.Quantile(1 - alpha/2)
	return 2 * distuv.UnitNormal.Survival(z/math.Sqrt(t))
}
