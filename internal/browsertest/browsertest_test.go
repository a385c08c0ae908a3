package browsertest_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/perfobs/perfobs-go/internal/browsertest"
	"github.com/perfobs/perfobs-go/leaktest"
)

func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }

// TestConsoleProblemsAndScreenshot: a page that logs an error and throws is reported, its text is
// read back, and the screenshot is a real image.
func TestConsoleProblemsAndScreenshot(t *testing.T) {
	page := `<!doctype html><title>t</title><p id="x">rendered</p>
<script>console.warn("just a warning"); console.error("broken chart"); throw new Error("uncaught");</script>`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(page))
	}))
	defer srv.Close()
	b := browsertest.Start(t, browsertest.Options{})
	b.Do(t, chromedp.Navigate(srv.URL))
	text, err := chromedp.Run(b.Context(), chromedp.Text("#x"))
	if err != nil {
		t.Fatal(err)
	}
	if text != "rendered" {
		t.Errorf("page text %q, want rendered", text)
	}
	problems := strings.Join(b.ConsoleProblems(), "\n")
	for _, want := range []string{"broken chart", "uncaught"} {
		if !strings.Contains(problems, want) {
			t.Errorf("console problems lack %q: %s", want, problems)
		}
	}
	if strings.Contains(problems, "just a warning") {
		t.Errorf("a warning counted without Options.Warnings: %s", problems)
	}
	if png := b.Screenshot(t, "browsertest.png"); len(png) < 1000 || string(png[1:4]) != "PNG" {
		t.Errorf("screenshot of %d bytes is not a PNG image", len(png))
	}
}
