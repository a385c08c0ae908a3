// Package statuspage tests perfobs's status page in a real browser: headless Chromium, driven
// with chromedp, loads /debug/perfobs/ after a known load and the test reads the numbers it
// rendered.
package statuspage

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/perfobs/perfobs-go/internal/browsertest"
	"github.com/perfobs/perfobs-go/leaktest"
	"github.com/perfobs/perfobs-go/middleware"
	"github.com/perfobs/perfobs-go/perfobs"
)

func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }

const evilRoute = `<img src=x onerror=alert(1)>`

// service is the instrumented service of the test and the private listener of its
// DebugHandler.
func service(t *testing.T, spans *tracetest.SpanRecorder) (svc, debug *httptest.Server) {
	t.Helper()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithSpanProcessor(spans))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	obs, err := perfobs.Start(context.Background(), perfobs.Config{Service: "checkout", Version: "1.4.2",
		LookupEnv:      func(string) (string, bool) { return "", false },
		TracerProvider: tp, // sampled requests attach exemplars
		FlightRecorder: perfobs.FlightRecorderConfig{Budget: time.Second, Budgets: map[string]time.Duration{"/slow": 30 * time.Millisecond}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { obs.Shutdown(context.Background()) })
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("{}")) })
	mux.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("fail") != "" {
			http.Error(w, "payment backend down", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusCreated)
	})
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(100 * time.Millisecond) // over its budget: a flight-recorder snapshot
	})
	mux.HandleFunc("GET /legacy/", func(w http.ResponseWriter, r *http.Request) {
		middleware.SetRoute(w, evilRoute) // a route name nobody should trust
		w.Write([]byte("ok"))
	})
	svc = httptest.NewServer(obs.HTTP(mux))
	t.Cleanup(svc.Close)
	debug = httptest.NewServer(obs.DebugHandler())
	t.Cleanup(debug.Close)
	return svc, debug
}

// load sends the known load: 40 user lookups, 10 orders of which 4 fail, 3 legacy pages, and
// one slow request.
func load(t *testing.T, base string) {
	t.Helper()
	send := func(method, path string) {
		req, _ := http.NewRequest(method, base+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	for i := range 40 {
		send("GET", fmt.Sprintf("/users/%d", i))
	}
	for i := range 10 {
		if i%5 < 2 {
			send("POST", "/orders?fail=1")
		} else {
			send("POST", "/orders")
		}
	}
	for i := range 3 {
		send("GET", fmt.Sprintf("/legacy/%d", i))
	}
	send("GET", "/slow")
	http.DefaultClient.CloseIdleConnections()
}

// waitSnapshot waits until the flight recorder lists a snapshot (it writes them in the
// background).
func waitSnapshot(t *testing.T, debugURL string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get(debugURL + "/debug/perfobs/api/traces")
		if err != nil {
			t.Fatal(err)
		}
		var list []map[string]any
		err = json.NewDecoder(resp.Body).Decode(&list)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("api/traces: %v", err)
		}
		if len(list) > 0 {
			return
		}
	}
	t.Fatal("no flight-recorder snapshot of the slow request after 10 s")
}

// run runs one action and fails the test on its error.
func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// row is one RED row as the browser rendered it.
type row struct {
	Kind, Name, Window       string
	Requests, Errors, ErrPct string
	P50, P99                 string
}

const readRows = `Array.from(document.querySelectorAll('tr.red')).map(tr => ({
	Kind: tr.dataset.kind, Name: tr.dataset.name, Window: tr.dataset.window,
	Requests: tr.querySelector('td.requests').textContent,
	Errors: tr.querySelector('td.errors').textContent,
	ErrPct: tr.querySelector('td.error-pct').textContent,
	P50: tr.querySelector('td.p50').textContent,
	P99: tr.querySelector('td.p99').textContent,
}))`

// TestStatusPageInChromium loads the page after a known load and checks what the browser shows:
// the counts and error shares per window, a hostile route as plain text, no console error, no
// dialog; the screenshot is kept as the test's artifact (go test -artifacts).
func TestStatusPageInChromium(t *testing.T) {
	leaktest.Check(t)
	spans := tracetest.NewSpanRecorder()
	svc, debug := service(t, spans)
	load(t, svc.URL)
	waitSnapshot(t, debug.URL)
	b := browsertest.Start(t, browsertest.Options{Width: 1400, Height: 2000, Warnings: true})
	b.Do(t, chromedp.Navigate(debug.URL+"/debug/perfobs/"), chromedp.WaitVisible(chromedp.ID("service")))
	ctx := b.Context()
	title := run(t, ctx, chromedp.Title())
	rows := run(t, ctx, chromedp.Evaluate[[]row](readRows))
	imgs := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('img, script').length`))
	names := run(t, ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('td.name[rowspan]')).map(td => td.textContent)`))
	css := run(t, ctx, chromedp.Evaluate[string](`getComputedStyle(document.body).fontFamily`))
	traceIDs := run(t, ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('td.trace-id')).map(td => td.textContent)`))
	snapshots := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('#traces-table table.trace').length`))
	snapshotLinks := run(t, ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#traces-table a')).map(a => a.getAttribute('href'))`))
	run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('details').forEach(d => d.open = true), 0`)) // histograms in the screenshot
	b.Screenshot(t, "statuspage.png")
	problems := b.ConsoleProblems()

	if !strings.HasPrefix(title, "checkout") {
		t.Errorf("title %q", title)
	}
	if !strings.Contains(css, "system-ui") {
		t.Errorf("the stylesheet did not apply (font-family %q): blocked by the page's CSP?", css)
	}
	got := map[string]row{}
	for _, r := range rows {
		got[r.Name+" "+r.Window] = r
	}
	for _, w := range []string{"1m", "10m", "1h", "start"} { // the process is younger than every window
		for _, want := range []row{
			{Kind: "http", Name: "GET /users/{id}", Window: w, Requests: "40", Errors: "0", ErrPct: "0.0 %"},
			{Kind: "http", Name: "POST /orders", Window: w, Requests: "10", Errors: "4", ErrPct: "40.0 %"},
			{Kind: "http", Name: "GET " + evilRoute, Window: w, Requests: "3", Errors: "0", ErrPct: "0.0 %"},
		} {
			r, ok := got[want.Name+" "+w]
			if !ok {
				t.Errorf("no row %q window %s among %d rows", want.Name, w, len(rows))
				continue
			}
			if r.Kind != want.Kind || r.Requests != want.Requests || r.Errors != want.Errors || r.ErrPct != want.ErrPct {
				t.Errorf("%s %s: rendered %+v, want %d requests, %s errors (%s)", want.Name, w, r, 0, want.Errors, want.ErrPct)
			}
			if r.P50 == "—" || r.P99 == "—" {
				t.Errorf("%s %s: no latency quantiles rendered: %+v", want.Name, w, r)
			}
		}
	}
	if r := got["GET /slow start"]; r.Requests != "1" {
		t.Errorf("GET /slow since start: %+v, want 1 request", r)
	}
	if len(rows) != 4*4 {
		t.Errorf("%d rendered RED rows, want 16 (4 routes x 4 windows)", len(rows))
	}
	// Exemplars: the trace ids shown are those of spans the service recorded.
	known := map[string]bool{}
	for _, s := range spans.Ended() {
		known[s.SpanContext().TraceID().String()] = true
	}
	shown := 0
	for _, id := range traceIDs {
		if !known[id] {
			t.Errorf("exemplar trace id %q is not a recorded span's", id)
		}
		shown++
	}
	if shown == 0 {
		t.Errorf("no exemplar trace id rendered (%d spans recorded)", len(known))
	}
	// The flight recorder's snapshot is listed, with links to its files that serve.
	if snapshots < 1 || len(snapshotLinks) == 0 {
		t.Errorf("%d flight-recorder snapshots and links %q rendered, want the slow request's", snapshots, snapshotLinks)
	}
	for _, href := range snapshotLinks {
		resp, err := http.Get(debug.URL + href)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("snapshot link %s: status %d", href, resp.StatusCode)
		}
	}
	if imgs != 0 {
		t.Errorf("the page holds %d img or script elements: a label became markup", imgs)
	}
	found := false
	for _, n := range names {
		found = found || n == "GET "+evilRoute
	}
	if !found {
		t.Errorf("route %q is not rendered as text; routes shown: %q", evilRoute, names)
	}
	if len(problems) > 0 {
		t.Errorf("the browser reported:\n%s", strings.Join(problems, "\n"))
	}
}
