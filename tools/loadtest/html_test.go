package loadtest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/perfobs/perfobs-go/middleware"
)

const chromiumPath = "/usr/bin/chromium"

// artifactDir is where screenshots go: $PERFOBS_ARTIFACTS when set, else a temp dir.
func artifactDir(t *testing.T) string {
	if d := os.Getenv("PERFOBS_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// browse opens a file in headless Chromium, waits for the page's script to have counted the
// points, calls check (which reads the DOM with chromedp.Run), writes a screenshot, and
// fails on any console error or uncaught exception.
func browse(t *testing.T, file, shot string, check func(ctx context.Context) error) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("%s: %v: install it with scripts/install-tools (the Debian package chromium)", chromiumPath, err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.WindowSize(900, 1200),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	tctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	defer cancelT()
	// Start the browser, then subscribe to the console before the page loads.
	if err := chromedp.Do(tctx); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	messages := chromedp.Console(tctx)
	var mu sync.Mutex
	var problems []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				mu.Lock()
				problems = append(problems, m.String())
				mu.Unlock()
			}
		}
	}()
	if err := chromedp.Do(tctx, chromedp.Navigate("file://"+file), chromedp.WaitVisible(chromedp.CSS(`body[data-rendered-points]`))); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	if err := check(tctx); err != nil {
		t.Fatalf("reading the page: %v", err)
	}
	png, err := chromedp.Run(tctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(artifactDir(t), shot)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(png))
	if len(png) < 10000 {
		t.Errorf("screenshot of %d bytes: the page looks empty", len(png))
	}
	time.Sleep(200 * time.Millisecond) // let the last console events arrive
	cancelT()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if len(problems) > 0 {
		t.Errorf("the console reported errors: %q", problems)
	}
}

// TestHTMLReport renders the report of a run with a burst and /metrics in Chromium and
// checks that each chart drew its data points with the report's values.
func TestHTMLReport(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /work", func(w http.ResponseWriter, r *http.Request) { time.Sleep(2 * time.Millisecond) })
	outer := http.NewServeMux()
	outer.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	outer.Handle("/", middleware.HTTP(mux, middleware.WithRegisterer(reg)))
	srv := httptest.NewServer(outer)
	defer srv.Close()
	sc, err := ParseScenario([]byte(`
name: html
stages:
  - {duration: 4s, rate: 40}
bursts:
  - {at: 1s, duration: 500ms, rate: 150}
spike: {window: 500ms, threshold: 1s}
targets:
  - {url: /work}
`), "html.yaml", srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := RunScenario(t.Context(), sc, WithMetricsURL(srv.URL+"/metrics"), WithTrends(true), WithSampleInterval(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	b := Budget{}.WithDefaults(true)
	o := rep.Judge(b)
	var verdict strings.Builder
	_ = rep.WriteVerdict(&verdict, b, o)
	file := filepath.Join(t.TempDir(), "report.html")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteHTML(f, "perfobs load html test", o, verdict.String()); err != nil {
		t.Fatal(err)
	}
	f.Close()
	page, _ := os.ReadFile(file)
	for _, banned := range []string{"http://cdn", "https://", "<link ", "src="} {
		if strings.Contains(string(page), banned) {
			t.Errorf("the page is not self-contained: it has %q", banned)
		}
	}

	var (
		counts map[string]int
		p99Y   string
		total  string
		knee   int
	)
	browse(t, file, "loadtest-report.png", func(ctx context.Context) (err error) {
		if counts, err = chromedp.Run(ctx, chromedp.Evaluate[map[string]int](
			`Object.fromEntries([...document.querySelectorAll("svg.chart")].map(s => [s.dataset.chart, s.querySelectorAll("circle.pt").length]))`)); err != nil {
			return err
		}
		if p99Y, err = chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#chart-latency circle.pt[data-series="p99"]').dataset.y`)); err != nil {
			return err
		}
		if total, err = chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.dataset.renderedPoints`)); err != nil {
			return err
		}
		knee, err = chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#chart-latency line.mark").length`))
		return err
	})
	n := len(rep.Timeline)
	answered := 0
	for _, p := range rep.Timeline {
		if p.P99 > 0 {
			answered++
		}
	}
	scrapes := len(rep.samples)
	want := map[string]int{
		"latency": 3 * answered, "rate": 3 * n, "errors": n, "late": n,
		"server-rate": scrapes - 1, "server-errors": scrapes - 1, "server-latency": 2 * (scrapes - 1),
		"goroutines": scrapes, "heap": scrapes, "fds": scrapes, "rss": scrapes,
	}
	sum := 0
	for id, w := range want {
		if got := counts[id]; got != w || w == 0 {
			t.Errorf("chart %s: %v points drawn, want %d", id, counts[id], w)
		}
		sum += w
	}
	if total != strconv.Itoa(sum) {
		t.Errorf("the page counted %s points, want %d", total, sum)
	}
	if want := fmt.Sprint(ms(rep.Timeline[0].P99)); p99Y != want {
		t.Errorf("first p99 point %s, want %s (the report's)", p99Y, want)
	}
	if knee < 2 {
		t.Errorf("%d marks on the latency chart, want the burst and its recovery", knee)
	}
	if n < 30 || scrapes < 8 {
		t.Errorf("timeline %d points, %d scrapes", n, scrapes)
	}

	t.Run("ramp", func(t *testing.T) {
		queue := queueServer(t, 10*time.Millisecond)
		ramp, _ := ParseRamp("20:140:40/600ms")
		b, _ := ParseBudget("p99<200ms")
		res, err := Stress(t.Context(), []Target{{URL: queue.URL}}, ramp, b)
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), "ramp.html")
		f, _ := os.Create(file)
		if err := res.WriteHTML(f, "perfobs load ramp test"); err != nil {
			t.Fatal(err)
		}
		f.Close()
		var pts int
		var marks []string
		browse(t, file, "loadtest-ramp.png", func(ctx context.Context) (err error) {
			if pts, err = chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#chart-ramp circle.pt").length`)); err != nil {
				return err
			}
			marks, err = chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#chart-ramp line.mark")].map(l => l.dataset.mark + "@" + l.dataset.x)`))
			return err
		})
		if pts != 2*len(res.Steps) {
			t.Errorf("%d points for %d steps", pts, len(res.Steps))
		}
		// Capacity is 100 req/s: p99 rises past 60 (sooner on a busy machine), 140 breaks;
		// on a very busy machine the generator may fall behind first, and that is marked.
		want := map[string]bool{}
		if res.Knee > 0 {
			want[fmt.Sprintf("knee@%g", res.Knee)] = true
		}
		if res.Breaking > 0 && res.Breaking != res.Knee {
			want[fmt.Sprintf("breaking point@%g", res.Breaking)] = true
		}
		if res.GeneratorLimit > 0 {
			want[fmt.Sprintf("generator limit@%g", res.GeneratorLimit)] = true
		}
		if len(marks) == 0 || len(marks) != len(want) {
			t.Errorf("marks %q, want %v", marks, want)
		}
		for _, m := range marks {
			if !want[m] {
				t.Errorf("mark %q, want %v", m, want)
			}
		}
		if res.GeneratorLimit == 0 && (res.Knee < 60 || (res.Breaking != 0 && res.Breaking < res.Knee)) {
			t.Errorf("knee %v breaking %v", res.Knee, res.Breaking)
		}
	})
}
