// Package browsertest runs this project's HTML pages and reports in a real browser: headless
// Chromium (Debian's package chromium, which scripts/install-tools installs) driven through
// chromedp, with a profile of its own, nothing that phones home, and its console watched for
// errors. It is a module of its own so that only the modules whose tests open a page require
// chromedp.
package browsertest

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is where Debian's chromium package puts the browser.
const ChromiumPath = "/usr/bin/chromium"

// Options say what the console check counts as a problem.
type Options struct {
	Width, Height int  // the window; 1280x1024 when zero
	Warnings      bool // count console warnings as problems too, not only errors and exceptions
}

// Browser is a headless Chromium for one test.
type Browser struct {
	ctx      context.Context
	mu       sync.Mutex
	problems []string
}

// Start launches Chromium and stops it when the test ends; actions run within 60 s of the start.
// It fails the test, naming scripts/install-tools, when Chromium is missing.
func Start(t testing.TB, o Options) *Browser {
	t.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		t.Fatalf("%s: %v: install Chromium with scripts/install-tools (the Debian package chromium)", ChromiumPath, err)
	}
	if o.Width == 0 || o.Height == 0 {
		o.Width, o.Height = 1280, 1024
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(ChromiumPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-extensions", true),
		chromedp.WindowSize(o.Width, o.Height))
	ctx, cancelCtx := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	b := &Browser{ctx: ctx}
	// Start the browser, then subscribe to the console before any page loads.
	if err := chromedp.Do(ctx); err != nil {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
		t.Fatalf("chromium: %v", err)
	}
	consoleCtx, stopConsole := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range chromedp.Console(consoleCtx) {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() || o.Warnings && m.Type == chromedp.ConsoleWarning {
				b.mu.Lock()
				b.problems = append(b.problems, m.String())
				b.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		stopConsole()
		<-done
		cancelTimeout()
		cancelCtx()
		cancelAlloc() // waits for the browser to exit
	})
	return b
}

// Context is the browser tab's context, for chromedp.Run and chromedp.Do.
func (b *Browser) Context() context.Context { return b.ctx }

// Do runs actions in the tab and fails the test on their error.
func (b *Browser) Do(t testing.TB, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		t.Fatalf("chromium: %v", err)
	}
}

// ConsoleProblems returns the console errors and uncaught exceptions (and warnings, when asked)
// seen so far, after a moment for the last messages to arrive.
func (b *Browser) ConsoleProblems() []string {
	time.Sleep(200 * time.Millisecond)
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.problems...)
}

// Screenshot writes a full-page PNG named name into the test's artifact directory (kept with
// `go test -artifacts -outputdir DIR`, a temporary one otherwise), logs its path and returns it.
func (b *Browser) Screenshot(t *testing.T, name string) []byte {
	t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(t.ArtifactDir(), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(png))
	return png
}
