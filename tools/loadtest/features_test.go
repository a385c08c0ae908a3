package loadtest

import (
	"bufio"
	"flag"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// queueServer serves one request at a time, each taking svc, first come first served: a
// single-server queue of capacity 1/svc requests per second. Response times follow a virtual
// clock, so that timer slack does not add up: a request waits exactly for the work ahead.
func queueServer(t *testing.T, svc time.Duration) *httptest.Server {
	var mu sync.Mutex
	var busyUntil time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		now := time.Now()
		start := busyUntil
		if start.Before(now) {
			start = now
		}
		busyUntil = start.Add(svc)
		done := busyUntil
		mu.Unlock()
		time.Sleep(time.Until(done))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// is tells whether a run's outcome is want; a run whose generator fell behind (a machine
// busy with other tests) is inconclusive instead, and that is logged, not failed, in the
// tests whose subject is not the generator.
func is(t *testing.T, rep *Report, o, want Outcome) bool {
	if o == Inconclusive && want != Inconclusive && rep.Generator != nil && rep.Generator.Bound {
		t.Logf("inconclusive instead of %v: %s", want, rep.Generator.summary())
		return true
	}
	return o == want
}

func TestAllFailuresNeverPass(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close()
	rep, err := Run(t.Context(), []Target{{URL: url}}, 5, 2*time.Second, WithTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Requests != 10 || rep.Answered != 0 || rep.ErrorRate != 1 || rep.Latency.P99 != 0 {
		t.Errorf("requests %d answered %d errors %v p99 %v", rep.Requests, rep.Answered, rep.ErrorRate, rep.Latency.P99)
	}
	b, _ := ParseBudget("p99<1s")
	b = b.WithDefaults(false)
	if b.String() != "p99<1s,errors<1%" {
		t.Errorf("budget with defaults %q", b)
	}
	if o := rep.Judge(b); !is(t, rep, o, Broken) || len(rep.Violations) != 2 {
		t.Fatalf("outcome %v violations %v", o, rep.Violations)
	}
	if got := rep.Violations[0].String(); got != "p99<1s broken: no request answered (10 sent, all failed)" {
		t.Errorf("violation %q", got)
	}
	if got := rep.Violations[1].String(); !strings.Contains(got, "errors<1% broken: 100.00% (the default error budget") {
		t.Errorf("violation %q", got)
	}
	var text strings.Builder
	_ = rep.WriteText(&text)
	if !strings.Contains(text.String(), "latency     none: no request was answered (10 failed without a response)") {
		t.Errorf("text:\n%s", text.String())
	}
}

// TestLatencyCountsAnsweredOnly mixes fast refusals with slow answers: the percentiles are
// those of the answers.
func TestLatencyCountsAnsweredOnly(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { time.Sleep(50 * time.Millisecond) }))
	defer slow.Close()
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	rep, err := Run(t.Context(), []Target{{URL: slow.URL}, {URL: deadURL}}, 40, time.Second, WithTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Answered != rep.Requests/2 || rep.StatusCodes["0"] != int(rep.Requests/2) {
		t.Errorf("answered %d of %d, codes %v", rep.Answered, rep.Requests, rep.StatusCodes)
	}
	if rep.Latency.P50 < 50*time.Millisecond {
		t.Errorf("p50 %v: the refusals were counted", rep.Latency.P50)
	}
}

func TestArrivals(t *testing.T) {
	count := func(p Profile) (n int, gaps []float64) {
		next := p.arrivals()
		prev := time.Duration(-1)
		for {
			at, ok := next()
			if !ok {
				return n, gaps
			}
			if at < prev {
				t.Fatalf("arrival %v before %v", at, prev)
			}
			if prev >= 0 {
				gaps = append(gaps, (at - prev).Seconds())
			}
			prev = at
			n++
		}
	}
	if n, _ := count(ConstantProfile(100, 2*time.Second)); n != 200 {
		t.Errorf("constant 100/s for 2s: %d arrivals", n)
	}
	if n, _ := count(Profile{StartRate: 0, Stages: []Stage{{Duration: 2 * time.Second, Target: 100}}}); n < 99 || n > 101 {
		t.Errorf("ramp 0->100 over 2s: %d arrivals, want 100", n)
	}
	sine := Profile{StartRate: 100, Stages: []Stage{{Duration: 10 * time.Second, Target: 100}}, Sine: &Sine{Period: 10 * time.Second, Amplitude: 0.5}}
	if n, _ := count(sine); n < 995 || n > 1005 {
		t.Errorf("sine over one period: %d arrivals, want 1000", n)
	}
	if r := sine.Rate(0); math.Abs(r-50) > 1e-9 {
		t.Errorf("sine trough %v, want 50", r)
	}
	if r := sine.Rate(5 * time.Second); math.Abs(r-150) > 1e-9 {
		t.Errorf("sine peak %v, want 150", r)
	}
	burst := Profile{StartRate: 10, Stages: []Stage{{Duration: 3 * time.Second, Target: 10}}, Bursts: []Burst{{At: time.Second, Duration: time.Second, Rate: 200}}}
	if n, _ := count(burst); n < 219 || n > 221 {
		t.Errorf("burst: %d arrivals, want 220", n)
	}
	p := ConstantProfile(200, 50*time.Second)
	p.Process, p.Seed = "poisson", 7
	n, gaps := count(p)
	if n < 9700 || n > 10300 {
		t.Errorf("poisson 200/s for 50s: %d arrivals, want about 10000", n)
	}
	var sum, sq float64
	for _, g := range gaps {
		sum += g
	}
	mean := sum / float64(len(gaps))
	for _, g := range gaps {
		sq += (g - mean) * (g - mean)
	}
	if cv := math.Sqrt(sq/float64(len(gaps))) / mean; cv < 0.95 || cv > 1.05 {
		t.Errorf("poisson gaps: coefficient of variation %.3f, want 1 (exponential)", cv)
	}
	if n2, _ := count(p); n2 != n {
		t.Errorf("same seed, %d then %d arrivals", n, n2)
	}
}

func TestWeightedPicker(t *testing.T) {
	pick := weightedPicker([]Target{{Weight: 3}, {Weight: 1}, {}})
	var got [3]int
	var seq []int
	for range 500 {
		i := pick()
		got[i]++
		if len(seq) < 5 {
			seq = append(seq, i)
		}
	}
	if got != [3]int{300, 100, 100} {
		t.Errorf("shares %v, want 300 100 100", got)
	}
	if fmt.Sprint(seq) != "[0 1 0 2 0]" {
		t.Errorf("order %v: want the shares interleaved", seq)
	}
}

// TestScenarioRun runs weighted targets with a per-target budget: the shares are exact, and
// the slow target alone breaks its budget.
func TestScenarioRun(t *testing.T) {
	var fast, slow atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept") != "application/json" {
			w.WriteHeader(http.StatusBadRequest)
		}
		fast.Add(1)
	})
	mux.HandleFunc("POST /checkout", func(w http.ResponseWriter, r *http.Request) {
		var b [64]byte
		n, _ := r.Body.Read(b[:])
		if string(b[:n]) != `{"item":1}` {
			w.WriteHeader(http.StatusBadRequest)
		}
		slow.Add(1)
		time.Sleep(300 * time.Millisecond)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	sc, err := ParseScenario([]byte(`
name: shop
arrival: poisson
seed: 3
stages:
  - {duration: 2s, rate: 60}
budget: "p99<2s,errors<1%"
targets:
  - {name: list, url: /items, weight: 3, headers: {Accept: application/json}, budget: "p99<250ms"}
  - {name: buy, method: POST, url: /checkout, body: '{"item":1}', budget: "p99<250ms"}
`), "shop.yaml", srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := RunScenario(t.Context(), sc)
	if err != nil {
		t.Fatal(err)
	}
	total := fast.Load() + slow.Load()
	if total < 90 || total > 150 || math.Abs(float64(fast.Load())-3*float64(slow.Load())) > 2 {
		t.Errorf("list %d buy %d, want 3:1 of about 120", fast.Load(), slow.Load())
	}
	o := rep.Judge(sc.Budget.WithDefaults(false))
	if !is(t, rep, o, Broken) || len(rep.Violations) != 1 || !strings.HasPrefix(rep.Violations[0].Rule, "target buy: p99<250ms") {
		t.Errorf("outcome %v violations %v", o, rep.Violations)
	}
	if len(rep.Targets) != 2 || rep.Targets[0].Name != "list" || rep.Targets[1].P99 < 300*time.Millisecond || rep.ErrorRate != 0 {
		t.Errorf("targets %+v, errors %v", rep.Targets, rep.ErrorRate)
	}
}

// TestSpikeRecovery: a queue of capacity 50 req/s (20ms a request) takes 15 req/s, then 150
// req/s for a second. The burst leaves 100 requests (2s of work) queued, which drain at
// 1 - 0.3 = 0.7s of work per second: requests sent about 2.5s after the burst wait less than
// 280ms again, so p99 (20ms service plus the wait) is back under 300ms then. The threshold
// sits well above the scheduling stalls of a busy machine.
func TestSpikeRecovery(t *testing.T) {
	srv := queueServer(t, 20*time.Millisecond)
	sc, err := ParseScenario([]byte(`
stages:
  - {duration: 8s, rate: 15}
bursts:
  - {at: 2s, duration: 1s, rate: 150}
spike: {window: 1s, threshold: 300ms}
budget: "recovery<5s"
targets:
  - {url: /}
`), "spike.yaml", srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := RunScenario(t.Context(), sc)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Spikes) != 1 {
		t.Fatalf("spikes %v", rep.Spikes)
	}
	sp := rep.Spikes[0]
	t.Logf("%s", sp.summary())
	if sp.Before > 150*time.Millisecond {
		// The threshold (300ms) is meant to sit well above the noise; a machine whose
		// stalls reach half of it before the burst cannot tell the queue's recovery apart.
		t.Logf("p99 before the burst is %v: too noisy a machine to check the recovery", sp.Before)
		return
	}
	if rep.Generator.Bound {
		// A machine too busy to send the burst on time (under -race, beside other tests): the
		// figures are not the queue's, and the run must say so.
		if o := rep.Judge(sc.Budget); o != Inconclusive {
			t.Errorf("generator-bound run judged %v", o)
		}
		t.Logf("the generator fell behind, figures not checked: %s", rep.Generator.summary())
		return
	}
	if !sp.Recovered || sp.Recovery < 2100*time.Millisecond || sp.Recovery > 3100*time.Millisecond {
		t.Errorf("recovery %v (recovered %v), want about 2.5s", sp.Recovery, sp.Recovered)
	}
	if sp.During.Requests < 135 || sp.During.Requests > 152 || sp.During.ErrorRate != 0 { // 150, less what a busy machine sends late
		t.Errorf("during the burst: %+v", sp.During)
	}
	// The last request of the burst waits for the 2s of work ahead of it.
	if sp.During.P99 < 1700*time.Millisecond || sp.During.Max > 2500*time.Millisecond {
		t.Errorf("during the burst: p99 %v max %v, want about 2s", sp.During.P99, sp.During.Max)
	}
	if o := rep.Judge(sc.Budget); !is(t, rep, o, Met) {
		t.Errorf("outcome %v: %v %v", o, rep.Violations, rep.Inconclusive)
	}
	b, _ := ParseBudget("recovery<1500ms")
	if v := b.Check(rep); len(v) != 1 || !strings.Contains(v[0].Got, "burst 1 (at 2s) took") {
		t.Errorf("recovery<1500ms: %v", v)
	}
}

// TestSlidingWindowBudget: a 1s outage (503s) and half a second of slow answers inside a 6s
// run pass the whole-run limits and break the same limits over 1s windows.
func TestSlidingWindowBudget(t *testing.T) {
	var once sync.Once
	var start time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { start = time.Now() })
		switch e := time.Since(start); {
		case e >= 2*time.Second && e < 3*time.Second:
			w.WriteHeader(http.StatusServiceUnavailable)
		case e >= 4*time.Second && e < 4500*time.Millisecond:
			time.Sleep(200 * time.Millisecond)
		}
	}))
	defer srv.Close()
	rep, err := Run(t.Context(), []Target{{URL: srv.URL}}, 50, 6*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseBudget("errors<30%,p90<100ms,errors<30% over 1s,p90<100ms over 1s,p90<100ms over 10s")
	if err != nil {
		t.Fatal(err)
	}
	o := rep.Judge(b)
	var got []string
	for _, v := range rep.Violations {
		got = append(got, v.Rule)
	}
	if !is(t, rep, o, Broken) || strings.Join(got, ",") != "errors<30% over 1s,p90<100ms over 1s" {
		t.Errorf("outcome %v, broken %q; want the two window limits", o, got)
	}
	if len(rep.Inconclusive) == 0 || !strings.Contains(rep.Inconclusive[0], "p90<100ms over 10s: the run (6s) is shorter than the window") {
		t.Errorf("inconclusive %q", rep.Inconclusive)
	}
	w := rep.Windows[0]
	var worst float64
	fmt.Sscanf(w.Worst, "%f%%", &worst)
	if worst < 90 || w.WorstStart < 1900*time.Millisecond || w.WorstStart > 2100*time.Millisecond || w.Broken == 0 || w.Windows < 45 {
		t.Errorf("errors window: %+v", w)
	}
}

// TestGeneratorHonesty caps the generator at 2 requests in flight against a 100ms service:
// it can send 20 req/s of the 50 asked, and the report blames the generator, not the
// service.
func TestGeneratorHonesty(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { time.Sleep(100 * time.Millisecond) }))
	defer srv.Close()
	rep, err := Run(t.Context(), []Target{{URL: srv.URL}}, 50, 2*time.Second, WithMaxWorkers(2))
	if err != nil {
		t.Fatal(err)
	}
	g := rep.Generator
	if !g.Bound || g.MaxInFlight != 2 || g.LateShare < 0.5 || g.LateMax < 2*time.Second {
		t.Fatalf("generator %+v", g)
	}
	if !strings.Contains(strings.Join(g.Reasons, ";"), "workers exhausted: 2 requests in flight") {
		t.Errorf("reasons %q", g.Reasons)
	}
	b, _ := ParseBudget("p99<50ms,errors<1%")
	if o := rep.Judge(b); o != Inconclusive || len(rep.Violations) != 1 {
		t.Errorf("outcome %v violations %v: a generator-bound run must be inconclusive", o, rep.Violations)
	}
	var text strings.Builder
	_ = rep.WriteVerdict(&text, b, Inconclusive)
	if !strings.Contains(text.String(), "INCONCLUSIVE: the load generator was the bottleneck") || !strings.Contains(text.String(), "not necessarily by the service: p99<50ms broken") {
		t.Errorf("verdict %s", text.String())
	}

	t.Run("the ramp marks the step", func(t *testing.T) {
		ramp, _ := ParseRamp("10:50:20/1s")
		res, err := Stress(t.Context(), []Target{{URL: srv.URL}}, ramp, b[1:], WithMaxWorkers(4))
		if err != nil {
			t.Fatal(err)
		}
		// 50 req/s of 100ms requests need 5 in flight; a busy machine may stop the ramp at 30.
		last := res.Steps[len(res.Steps)-1]
		if res.GeneratorLimit < 30 || res.Highest != res.GeneratorLimit-20 || res.Breaking != 0 || !last.GeneratorBound {
			t.Errorf("limit %v highest %v breaking %v", res.GeneratorLimit, res.Highest, res.Breaking)
		}
		var text strings.Builder
		_ = res.WriteText(&text)
		for _, w := range []string{"GENERATOR-BOUND", fmt.Sprintf("generator limit: %g req/s", res.GeneratorLimit),
			fmt.Sprintf("the service's breaking point is above %g req/s", res.Highest)} {
			if !strings.Contains(text.String(), w) {
				t.Errorf("text lacks %q:\n%s", w, text.String())
			}
		}
	})
}

var soakDuration = flag.Duration("soak.duration", 20*time.Second,
	"duration of the soak tests at 100 req/s (the leak of one goroutine per 100 requests is caught within 2m)")

// startProcess starts the test binary as a service of known behaviour (TestMain's serve)
// and returns its base URL.
func startProcess(t *testing.T, mode string) string {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), serverEnv+"="+mode)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("%s server: %v", mode, err)
	}
	return "http://" + strings.TrimSpace(addr)
}

// TestSoakLeak runs a leaking and a clean service (each in its own process) at 100 req/s:
// the leak of one goroutine per 100 requests (3600 an hour) fails the default trend check
// with a slope near 3600/h, the clean one passes.
func TestSoakLeak(t *testing.T) {
	for _, mode := range []string{"leak", "clean"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			base := startProcess(t, mode)
			// Warm the service up: its first connections and buffers are not a trend.
			if _, err := Run(t.Context(), []Target{{URL: base + "/"}}, 100, time.Second); err != nil {
				t.Fatal(err)
			}
			rep, err := Run(t.Context(), []Target{{URL: base + "/"}}, 100, *soakDuration,
				WithMetricsURL(base+"/metrics"), WithTrends(true), WithSampleInterval(time.Second))
			if err != nil {
				t.Fatal(err)
			}
			b := Budget{}.WithDefaults(rep.Trends != nil)
			o := rep.Judge(b)
			var text strings.Builder
			_ = rep.WriteText(&text)
			t.Logf("%s, %s:\n%s%v %v", mode, *soakDuration, text.String(), rep.Violations, rep.Inconclusive)
			g, net := rep.Trends.find("goroutines"), rep.Trends.find(netGoroutines)
			if g == nil || net == nil || g.Samples < int(soakDuration.Seconds())-2 {
				t.Fatalf("goroutine trends %+v %+v", g, net)
			}
			switch mode {
			case "leak":
				if !is(t, rep, o, Broken) || len(rep.Violations) == 0 || rep.Violations[0].Rule != "goroutines growth not significant" {
					t.Errorf("outcome %v violations %v: the leak was not caught", o, rep.Violations)
				}
				// The leak is 3600/h; new keep-alive connections (a goroutine and a descriptor
				// each) come on top of the raw count, not of the net one.
				if net.Slope < 0.8*3600 || net.Slope > 1.25*3600 || g.Slope < 0.8*3600 {
					t.Errorf("slope %.0f/h [%.0f, %.0f], net of fds %.0f/h [%.0f, %.0f], want about 3600/h",
						g.Slope, g.Low, g.High, net.Slope, net.Low, net.High)
				}
			case "clean":
				if !is(t, rep, o, Met) {
					t.Errorf("outcome %v: %v %v", o, rep.Violations, rep.Inconclusive)
				}
			}
		})
	}
}

func TestTheilSen(t *testing.T) {
	var xs, ys []float64
	for i := range 30 {
		x := float64(i)
		y := 2*x + 5 + float64((i*7)%5) - 2 // slope 2 with bounded noise
		if i == 10 {
			y = 1000 // an outlier does not move the fit
		}
		xs, ys = append(xs, x), append(ys, y)
	}
	s, lo, hi := theilSen(xs, ys, 0.95)
	if math.Abs(s-2) > 0.1 || lo > 2 || hi < 2 || hi-lo > 0.6 {
		t.Errorf("slope %v [%v, %v], want 2 within a tight interval", s, lo, hi)
	}
	flat := make([]float64, 20)
	for i := range flat {
		flat[i] = 7
	}
	s, lo, hi = theilSen(xs[:20], flat, 0.95)
	if s != 0 || lo > 0 || hi < 0 {
		t.Errorf("flat series: %v [%v, %v]", s, lo, hi)
	}
	s, lo, hi = theilSen([]float64{0, 1, 2}, []float64{0, 1, 2}, 0.95)
	if s != 1 || !math.IsInf(lo, -1) || !math.IsInf(hi, 1) {
		t.Errorf("three samples: %v [%v, %v], want an unbounded interval", s, lo, hi)
	}
}

func TestReplay(t *testing.T) {
	var mu sync.Mutex
	type hit struct {
		path string
		at   time.Time
	}
	var hits []hit
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits = append(hits, hit{r.Method + " " + r.URL.RequestURI(), time.Now()})
		mu.Unlock()
	}))
	defer srv.Close()
	logText := `127.0.0.1 - frank [10/Oct/2026:13:55:36 -0700] "GET /a HTTP/1.0" 200 2326
127.0.0.1 - - [10/Oct/2026:13:55:36 -0700] "GET /b?x=1 HTTP/1.1" 200 12 "http://ref/" "curl/8"
10.0.0.1 - - [10/Oct/2026:13:55:37 -0700] "-" 400 0 "-" "-"
10.0.0.1 - - [10/Oct/2026:13:55:37 -0700] "POST /c HTTP/1.1" 201 5 "-" "Mozilla/5.0 (X11)"
10.0.0.1 - - [10/Oct/2026:13:55:39 -0700] "GET /d HTTP/1.1" 200 5
`
	log, err := ParseAccessLog(strings.NewReader(logText), "access.log", srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if len(log.Entries) != 4 || log.Skipped != 1 || log.Entries[1].At != 500*time.Millisecond || log.Entries[3].At != 3*time.Second {
		t.Fatalf("entries %+v skipped %d", log.Entries, log.Skipped)
	}
	rep, err := Replay(t.Context(), log.Entries, 2)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Requests != 4 || len(hits) != 4 {
		t.Fatalf("requests %d hits %d", rep.Requests, len(hits))
	}
	want := []struct {
		path string
		at   time.Duration
	}{{"GET /a", 0}, {"GET /b?x=1", 250 * time.Millisecond}, {"POST /c", 500 * time.Millisecond}, {"GET /d", 1500 * time.Millisecond}}
	for i, w := range want {
		at := hits[i].at.Sub(hits[0].at)
		if hits[i].path != w.path || at < w.at-50*time.Millisecond || at > w.at+80*time.Millisecond {
			t.Errorf("hit %d: %s at %v, want %s at %v (x2 the recorded pace)", i, hits[i].path, at, w.path, w.at)
		}
	}
	for _, tt := range []struct{ in, want string }{
		{"garbage\n", `access.log:1: not the Common or Combined Log Format: "garbage"`},
		{`1.2.3.4 - - [10/Oct/2026:25:55:36 -0700] "GET / HTTP/1.1" 200 1` + "\n", `access.log:1: timestamp "10/Oct/2026:25:55:36 -0700"`},
		{`1.2.3.4 - - [10/Oct/2026:13:55:36 -0700] "-" 400 1` + "\n", "access.log: no request to replay (1 lines skipped)"},
	} {
		if _, err := ParseAccessLog(strings.NewReader(tt.in), "access.log", srv.URL); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("error %v, want %q", err, tt.want)
		}
	}

	t.Run("vegeta targets", func(t *testing.T) {
		body := filepath.Join(t.TempDir(), "body.json")
		os.WriteFile(body, []byte(`{"a":1}`), 0o644)
		src := fmt.Sprintf("GET %s/x\nX-Trace: 1\n\nPOST %s/y\nContent-Type: application/json\n@%s\n", srv.URL, srv.URL, body)
		ts, err := ParseVegetaTargets(strings.NewReader(src), "targets.txt")
		if err != nil {
			t.Fatal(err)
		}
		if len(ts) != 2 || ts[0].Header.Get("X-Trace") != "1" || ts[1].Method != "POST" || string(ts[1].Body) != `{"a":1}` {
			t.Errorf("targets %+v", ts)
		}
		if IsAccessLog([]byte(src)) || !IsAccessLog([]byte(logText)) {
			t.Error("IsAccessLog mistakes one format for the other")
		}
		if _, err := ParseVegetaTargets(strings.NewReader("FETCH\n"), "targets.txt"); err == nil || !strings.Contains(err.Error(), "targets.txt: target 1") {
			t.Errorf("error %v", err)
		}
	})
}
