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
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/perfobs/perfobs-go/internal/browsertest"
	"github.com/perfobs/perfobs-go/middleware"
)

// browse opens a file in headless Chromium, waits for the page's script to have counted the
// points, calls check (which reads the DOM with chromedp.Run), writes a screenshot (kept with
// go test -artifacts), and fails on any console error or uncaught exception.
func browse(t *testing.T, file, shot string, check func(ctx context.Context) error) {
	t.Helper()
	b := browsertest.Start(t, browsertest.Options{Width: 900, Height: 1200})
	b.Do(t, chromedp.Navigate("file://"+file), chromedp.WaitVisible(chromedp.CSS(`body[data-rendered-points]`)))
	if err := check(b.Context()); err != nil {
		t.Fatalf("reading the page: %v", err)
	}
	if png := b.Screenshot(t, shot); len(png) < 10000 {
		t.Errorf("screenshot of %d bytes: the page looks empty", len(png))
	}
	if problems := b.ConsoleProblems(); len(problems) > 0 {
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
