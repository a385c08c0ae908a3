package canary_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/perfobs/perfobs-go/internal/browsertest"
)

// checkHTMLInBrowser opens the --html report in headless Chromium and checks that each chart
// draws both sides' curves in both panels (CDF and tail) with real extent, that nothing failed to
// load, and that the page made no console error. It leaves a screenshot in the test's artifact
// directory (go test -artifacts).
func checkHTMLInBrowser(t *testing.T, file string, charts int) {
	t.Helper()
	b := browsertest.Start(t, browsertest.Options{Width: 1300, Height: 900})
	b.Do(t, chromedp.Navigate("file://"+file), chromedp.WaitVisible(chromedp.CSS(`svg polyline`)))
	tctx := b.Context()
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
	b.Screenshot(t, "canary-html.png")
	problems := b.ConsoleProblems()
	for _, p := range problems {
		t.Errorf("browser console: %s", p)
	}
}
