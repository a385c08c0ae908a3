package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/perfobs/perfobs-go/middleware"
)

// loadServers starts loopback servers: /ok answers at once, /flaky fails every fourth
// request, /serial handles one request at a time for 20ms each (capacity about 50 req/s),
// /metrics serves the middleware's metrics for the other routes.
func loadServers(t *testing.T) string {
	t.Helper()
	reg := prometheus.NewRegistry()
	mux := http.NewServeMux()
	var n atomic.Int64
	var mu sync.Mutex
	mux.HandleFunc("GET /ok", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	mux.HandleFunc("GET /flaky", func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%4 == 0 {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("GET /serial", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		time.Sleep(20 * time.Millisecond)
		mu.Unlock()
	})
	outer := http.NewServeMux()
	outer.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	outer.Handle("/", middleware.HTTP(mux, middleware.WithRegisterer(reg)))
	srv := httptest.NewServer(outer)
	t.Cleanup(srv.Close)
	return srv.URL
}

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut strings.Builder
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestLoad(t *testing.T) {
	base := loadServers(t)
	dir := t.TempDir()
	fileA, fileB := filepath.Join(dir, "a.bin"), filepath.Join(dir, "b.bin")
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr []string
	}{
		{"a met budget passes", []string{"--target", base + "/ok", "--rate", "50", "--duration", "500ms", "--budget", "p99<1s,errors<1%"}, exitOK,
			[]string{"rate        50.0 req/s offered", "latency     p50 ", "p99.9 ", "budget      p99<1s,errors<1%: met"}, nil},
		{"a broken budget fails", []string{"--target", base + "/flaky", "--target", "GET " + base + "/ok", "--rate", "40", "--duration", "500ms", "--budget", "errors<1%"}, exitFail,
			[]string{"BROKEN: errors<1% broken: "}, nil},
		{"server-side RED beside the client's", []string{"--target", base + "/flaky", "--rate", "40", "--duration", "500ms", "--metrics", base + "/metrics", "--output", fileA, "--budget", "errors<30%"}, exitOK,
			[]string{"server      ", "requests recorded", "errors 25.00%"}, nil},
		{"a second machine's results", []string{"--target", base + "/flaky", "--rate", "40", "--duration", "500ms", "--output", fileB, "--budget", "errors<30%"}, exitOK, nil, nil},
		{"merged results from two files", []string{"report", "--budget", "errors<1%", fileA, fileB}, exitFail,
			[]string{"merged      40 results from 2 files", "errors      25.00%", "BROKEN"}, nil},
		{"merged results with errors fail the default error budget", []string{"report", fileA, fileB}, exitFail,
			[]string{"merged      40 results", "errors<1% broken: 25.00% (the default error budget"}, nil},
		{"merged results within their error budget pass", []string{"report", "--budget", "errors<30%", fileA, fileB}, exitOK, []string{"errors<30%: met"}, nil},
		{"the stress ramp finds the breaking point", []string{"--target", base + "/serial", "--ramp", "20:100:40/600ms", "--budget", "p50<100ms"}, exitOK,
			[]string{"highest rate meeting the budget: ", "breaking point: ", "latency knee"}, []string{"step 1/3 20 req/s for 600ms ...", "step 1/3 20 req/s: "}},
		{"the ramp fails below --min-rate", []string{"--target", base + "/ok", "--ramp", "20:20:1/300ms", "--budget", "p99<1s", "--min-rate", "50"}, exitFail,
			[]string{"FAIL: the budget held only up to 20 req/s, below --min-rate 50"}, nil},
		{"no target", []string{"--rate", "10"}, exitUsage, nil, []string{"need at least one --target URL"}},
		{"no rate", []string{"--target", base + "/ok"}, exitUsage, nil, []string{"need --rate R"}},
		{"a bad target", []string{"--target", "localhost:8080", "--rate", "1"}, exitUsage, nil, []string{`target "localhost:8080"`}},
		{"a bad budget names the clause", []string{"--target", base + "/ok", "--rate", "10", "--budget", "p99<200ms,errors<1"}, exitUsage, nil,
			[]string{`clause 2 "errors<1": errors bound "1": write a percentage such as 1%`}},
		{"a bad ramp shows the syntax", []string{"--target", base + "/ok", "--ramp", "10-20", "--budget", "p99<1s"}, exitUsage, nil,
			[]string{"FROM:TO:STEP/INTERVAL"}},
		{"a ramp needs a budget", []string{"--target", base + "/ok", "--ramp", "10:20:10/1s"}, exitUsage, nil, []string{"--ramp needs --budget"}},
		{"a bad header", []string{"--target", base + "/ok", "--rate", "1", "--header", "nocolon"}, exitUsage, nil, []string{`--header "nocolon"`}},
		{"report needs files", []string{"report"}, exitUsage, nil, []string{"need one or more result files"}},
		{"report names a bad file", []string{"report", "../../perfgate/testdata/base.txt"}, exitUsage, nil,
			[]string{"../../perfgate/testdata/base.txt: not vegeta results"}},
		{"report names a missing file", []string{"report", filepath.Join(dir, "none.bin")}, exitUsage, nil, []string{"none.bin"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, append([]string{"load"}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			for _, w := range tt.stdout {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout)
				}
			}
			for _, w := range tt.stderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}

func TestLoadJSON(t *testing.T) {
	base := loadServers(t)
	code, stdout, stderr := runCLI(t, "load", "--format", "json", "--target", base+"/flaky", "--rate", "40", "--duration", "500ms", "--budget", "errors<1%")
	if code != exitFail {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep struct {
		Requests   int
		ErrorRate  float64 `json:"error_rate"`
		Violations []struct{ Limit, Got string }
		Latency    struct{ P99 int64 }
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if rep.Requests != 20 || rep.ErrorRate != 0.25 || len(rep.Violations) != 1 || rep.Violations[0].Limit != "errors<1%" || rep.Latency.P99 <= 0 {
		t.Errorf("report %+v", rep)
	}
	if _, err := os.Stat("a.bin"); err == nil {
		t.Error("stray output file")
	}
}
