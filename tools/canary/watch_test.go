package canary

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"gonum.org/v1/gonum/stat/distuv"
)

func TestSpendingSumsToAlpha(t *testing.T) {
	for _, looks := range []int{1, 3, 10, 100} {
		sum, prev := 0.0, 0.0
		for k := 1; k <= looks; k++ {
			cum := obrienFleming(float64(k)/float64(looks), 0.02)
			if cum < prev {
				t.Fatalf("%d looks: spending decreases at look %d", looks, k)
			}
			sum += cum - prev
			prev = cum
		}
		if math.Abs(sum-0.02) > 1e-12 {
			t.Errorf("%d looks spend %v, want 0.02", looks, sum)
		}
	}
	if a := obrienFleming(0.1, 0.02); a > 1e-9 {
		t.Errorf("O'Brien-Fleming spends %v by 10%% of the analysis, want almost nothing", a)
	}
}

// TestWatchHoldsFalsePositiveRate measures what looking repeatedly does to the false-positive
// rate: identical sides, error ratios compared after each of 10 growing windows, at the
// boundary of the null (zero tolerance). A plain test at alpha at every look rejects far more
// often than alpha; the alpha-spending schedule Watch uses stays at or below it.
func TestWatchHoldsFalsePositiveRate(t *testing.T) {
	const (
		runs, looks = 4000, 10
		alpha       = 0.05
		perLook     = 1000
		p           = 0.01
	)
	r := rand.New(rand.NewPCG(11, 12))
	bin := distuv.Binomial{N: perLook, P: p, Src: r}
	naive, spent := 0, 0
	for range runs {
		var xB, xC, n float64
		rejNaive, rejSpent := false, false
		prev := 0.0
		for k := 1; k <= looks; k++ {
			xB += bin.Rand()
			xC += bin.Rand()
			n += perLook
			pv := diffP(xB, n, xC, n, 0)
			cum := obrienFleming(float64(k)/looks, alpha)
			rejNaive = rejNaive || pv < alpha
			rejSpent = rejSpent || pv < cum-prev
			prev = cum
		}
		if rejNaive {
			naive++
		}
		if rejSpent {
			spent++
		}
	}
	fn, fs := float64(naive)/runs, float64(spent)/runs
	t.Logf("false positives over %d looks, one-sided alpha %.2f: plain test at every look %.1f%%, alpha spending %.1f%% (%d runs)", looks, alpha, 100*fn, 100*fs, runs)
	if fs > alpha+0.01 {
		t.Errorf("alpha spending: %.1f%% false positives, want at most %.0f%%", 100*fs, 100*alpha)
	}
	if fn < 1.5*alpha {
		t.Errorf("plain repeated tests gave %.1f%%: the measurement no longer shows the inflation", 100*fn)
	}
}

// fakeClock drives Watch without sleeping.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }
func (c *fakeClock) Sleep(_ context.Context, d time.Duration) error {
	c.now = c.now.Add(d)
	return nil
}

func TestWatch(t *testing.T) {
	slow := healthyJob("1.1.0")
	slow.http[Group{Kind: "http", Route: "/orders", Method: "POST"}] = &Traffic{Latency: hist(1000, 3000, 3500, 1500, 500, 300, 200), Errors: 10}
	f := &fakeProm{jobs: map[string]*fakeJob{"base": healthyJob("1.0.0"), "same": healthyJob("1.0.0"), "slow": slow}}
	srv := f.serve(t)
	q := &Client{URL: srv.URL}

	clock := &fakeClock{now: t0}
	var looks []Report
	req := Request{Baseline: mustSel(t, `job="base"`), Canary: mustSel(t, `job="same"`), Start: t0}
	rep, err := Watch(context.Background(), q, req, WatchOptions{Interval: 5 * time.Minute, Deadline: t0.Add(30 * time.Minute),
		Now: clock.Now, Sleep: clock.Sleep, OnLook: func(r Report) { looks = append(looks, r) }})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != Pass || !rep.Final || len(looks) != 7 {
		t.Fatalf("identical sides: %s final=%v after %d looks, want a final pass after 7 (t=0..30m every 5m)", rep.Verdict, rep.Final, len(looks))
	}
	sum := 0.0
	for _, l := range looks {
		sum += l.Alpha
		if !l.Final && l.Verdict == Pass {
			t.Errorf("look %d passes before the deadline", l.Look)
		}
	}
	if math.Abs(sum-DefaultAlpha) > 1e-9 {
		t.Errorf("looks spent alpha %v in all, want %v", sum, DefaultAlpha)
	}

	clock.now = t0
	looks = nil
	req.Canary = mustSel(t, `job="slow"`)
	rep, err = Watch(context.Background(), q, req, WatchOptions{Interval: 5 * time.Minute, Deadline: t0.Add(30 * time.Minute),
		Now: clock.Now, Sleep: clock.Sleep, OnLook: func(r Report) { looks = append(looks, r) }})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != Fail || rep.Final || rep.Look != 2 {
		t.Fatalf("blatant regression: %s at look %d (final %v), want a fail at the first look with data", rep.Verdict, rep.Look, rep.Final)
	}
}
