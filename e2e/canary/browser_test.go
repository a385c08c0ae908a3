package canary_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const chromiumPath = "/usr/bin/chromium"

// checkHTMLInBrowser opens the --html report in headless Chromium and checks that each chart
// draws both sides' curves in both panels (CDF and tail) with real extent, that nothing failed to
// load, and that the page made no console error. It leaves a screenshot in $PERFOBS_ARTIFACTS (or
// a temp dir).
func checkHTMLInBrowser(t *testing.T, file string, charts int) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("%s: %v: install it with scripts/install-tools (the Debian package chromium)", chromiumPath, err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.WindowSize(1300, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	tctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	defer cancelT()
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
	if err := chromedp.Do(tctx, chromedp.Navigate("file://"+file), chromedp.WaitVisible(chromedp.CSS(`svg polyline`))); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	// Each polyline's rendered box: width across most of the axis, some height, at least 5 points.
	type line struct {
		Panel, Side   string
		Width, Height float64
		Points        int
	}
	lines, err := chromedp.Run(tctx, chromedp.Evaluate[[]line](`[...document.querySelectorAll("svg polyline")].map(p => {
		const b = p.getBBox();
		return {Panel: p.closest("g").id, Side: p.dataset.side, Width: b.width, Height: b.height, Points: p.points.numberOfItems};
	})`))
	if err != nil {
		t.Fatalf("reading the page: %v", err)
	}
	if len(lines) != 4*charts {
		t.Fatalf("%d curves, want %d (baseline and canary, CDF and tail, for %d charts): %+v", len(lines), 4*charts, charts, lines)
	}
	for _, l := range lines {
		if l.Width < 300 || l.Height < 50 || l.Points < 5 {
			t.Errorf("%s %s curve renders %gx%g px with %d points: too small to read", l.Panel, l.Side, l.Width, l.Height, l.Points)
		}
	}
	resources, err := chromedp.Run(tctx, chromedp.Evaluate[int](`performance.getEntriesByType("resource").length`))
	if err != nil {
		t.Fatal(err)
	}
	if resources != 0 {
		t.Errorf("the page loaded %d resources; it must be self-contained", resources)
	}
	png, err := chromedp.Run(tctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir := os.Getenv("PERFOBS_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "canary-html.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", shot, len(png))
	time.Sleep(200 * time.Millisecond) // let the last console events arrive
	cancelT()
	<-done
	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Errorf("browser console: %s", p)
	}
}
