package perfobs

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime/trace"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perfobs/perfobs-go/alerts"
	"github.com/perfobs/perfobs-go/flightrecorder"
)

func getBody(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, httptest.NewRequest("GET", path, nil))
	return rr.Code, rr.Body.String()
}

func TestFlightRecorderOffByDefault(t *testing.T) {
	obs, err := Start(context.Background(), Config{LookupEnv: env(nil), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer obs.Shutdown(context.Background())
	if obs.FlightRecorder() != nil {
		t.Error("a flight recorder runs with a zero Config")
	}
	if code, body := getBody(t, obs.flightRecorderHandler(), tracesAPIPath); code != 200 || strings.TrimSpace(body) != "[]" {
		t.Errorf("api/traces when off: %d %q, want 200 []", code, body)
	}
	if code, _ := getBody(t, obs.flightRecorderHandler(), tracesFilesPath+"x.trace"); code != 404 {
		t.Errorf("a file when off: %d, want 404", code)
	}
}

func TestFlightRecorderConfig(t *testing.T) {
	model := &alerts.Model{SLOs: []alerts.SLO{
		{Name: "cart", Kind: "latency", Threshold: 0.25, Routes: []string{"/cart", "/both"}},
		{Name: "tight", Kind: "latency", Threshold: 0.1, Routes: []string{"/both"}},
		{Name: "rpc", Kind: "latency", Protocol: "grpc", Threshold: 0.05, Methods: []string{"shop.Cart/Add"}},
		{Name: "all", Kind: "latency", Threshold: 1},
		{Name: "avail", Kind: "availability"},
	}}
	for _, tc := range []struct {
		name    string
		cfg     Config
		budgets map[string]time.Duration // nil: off
		err     string
	}{
		{name: "env budget", cfg: Config{LookupEnv: env(map[string]string{envFlightBudget: "75ms"})},
			budgets: map[string]time.Duration{"/x": 75 * time.Millisecond}},
		{name: "env zero is off", cfg: Config{LookupEnv: env(map[string]string{envFlightBudget: "0s"})}},
		{name: "field wins over env", cfg: Config{LookupEnv: env(map[string]string{envFlightBudget: "75ms"}),
			FlightRecorder: FlightRecorderConfig{Budget: time.Second}}, budgets: map[string]time.Duration{"/x": time.Second}},
		{name: "bad env", cfg: Config{LookupEnv: env(map[string]string{envFlightBudget: "fast"})}, err: envFlightBudget + `="fast"`},
		{name: "negative", cfg: Config{FlightRecorder: FlightRecorderConfig{Budget: -time.Second}},
			err: "Config.FlightRecorder: Budget -1s must not be negative"},
		{name: "SLO thresholds", cfg: Config{SLOs: model, FlightRecorder: FlightRecorderConfig{Budget: 2 * time.Second,
			Budgets: map[string]time.Duration{"/cart": 300 * time.Millisecond}}},
			budgets: map[string]time.Duration{"/x": 2 * time.Second, "/cart": 300 * time.Millisecond,
				"/both": 100 * time.Millisecond, "shop.Cart/Add": 50 * time.Millisecond}},
		{name: "bad route budget", cfg: Config{FlightRecorder: FlightRecorderConfig{Budget: time.Second,
			Budgets: map[string]time.Duration{"/a": -1}}}, err: `Budgets["/a"]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.cfg.LookupEnv == nil {
				tc.cfg.LookupEnv = env(nil)
			}
			tc.cfg.Logger = quietLogger()
			obs, err := Start(context.Background(), tc.cfg)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Start: %v; want an error containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer obs.Shutdown(context.Background())
			fr := obs.FlightRecorder()
			if (fr == nil) != (tc.budgets == nil) {
				t.Fatalf("flight recorder %v, want on: %v", fr, tc.budgets != nil)
			}
			for route, want := range tc.budgets {
				if got := fr.Budget(route); got != want {
					t.Errorf("Budget(%q) = %v, want %v", route, got, want)
				}
			}
		})
	}
}

// TestFlightRecorderServesSnapshots: a request slow on a held mutex shows in api/traces, its file
// is a Go trace, and its summary says sync.
func TestFlightRecorderServesSnapshots(t *testing.T) {
	obs, err := Start(context.Background(), Config{LookupEnv: env(nil), Logger: quietLogger(),
		FlightRecorder: FlightRecorderConfig{Budget: 20 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer obs.Shutdown(context.Background())
	var mu sync.Mutex
	mux := http.NewServeMux()
	mux.HandleFunc("GET /locked/{id}", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
	})
	mu.Lock()
	go func() { time.Sleep(60 * time.Millisecond); mu.Unlock() }()
	obs.HTTP(mux).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/locked/1", nil))

	h := obs.flightRecorderHandler()
	var list []map[string]any
	for deadline := time.Now().Add(10 * time.Second); len(list) == 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		_, body := getBody(t, h, tracesAPIPath)
		if err := json.Unmarshal([]byte(body), &list); err != nil {
			t.Fatalf("api/traces is not a JSON list: %v\n%s", err, body)
		}
	}
	if len(list) != 1 {
		t.Fatalf("api/traces lists %d snapshots, want 1", len(list))
	}
	item := list[0]
	for _, k := range []string{"id", "route", "trace_id", "duration_seconds", "url"} {
		if _, ok := item[k]; !ok {
			t.Errorf("api/traces entry lacks %q: %v", k, item)
		}
	}
	if item["route"] != "/locked/{id}" || item["duration_seconds"].(float64) < 0.06 {
		t.Errorf("entry %v; want route /locked/{id}, at least 0.06 s", item)
	}
	if s, _ := item["summary"].(string); !strings.HasPrefix(s, "sync ") {
		t.Errorf("summary %q, want it to start with sync", s)
	}
	code, file := getBody(t, h, item["url"].(string))
	if code != 200 || !strings.HasPrefix(file, "go 1.") {
		t.Errorf("GET %s: %d, %q...; want a Go trace", item["url"], code, file[:min(len(file), 12)])
	}
	code, text := getBody(t, h, item["summary_url"].(string))
	if code != 200 || !strings.Contains(text, "mostly: sync") {
		t.Errorf("GET %s: %d\n%s", item["summary_url"], code, text)
	}
	for _, bad := range []string{tracesFilesPath + "nope.trace", tracesFilesPath + "../x.trace", tracesFilesPath + "x",
		tracesFilesPath + item["id"].(string) + ".summary.txt?trace_id=absent"} {
		if code, _ := getBody(t, h, bad); code != 404 {
			t.Errorf("GET %s: %d, want 404", bad, code)
		}
	}
}

// TestFlightRecorderOnePerProcess: Start refuses when the service already runs a flight recorder,
// and works beside the service's own trace.Start.
func TestFlightRecorderOnePerProcess(t *testing.T) {
	own := trace.NewFlightRecorder(trace.FlightRecorderConfig{})
	if err := own.Start(); err != nil {
		t.Fatal(err)
	}
	_, err := Start(context.Background(), Config{LookupEnv: env(nil), Logger: quietLogger(),
		FlightRecorder: FlightRecorderConfig{Budget: time.Second}})
	own.Stop()
	if !errors.Is(err, flightrecorder.ErrActive) || !strings.Contains(err.Error(), "Config.FlightRecorder") {
		t.Errorf("Start beside another flight recorder: %v; want Config.FlightRecorder: ...ErrActive", err)
	}

	if err := trace.Start(io.Discard); err != nil {
		t.Fatal(err)
	}
	defer trace.Stop()
	obs, err := Start(context.Background(), Config{LookupEnv: env(nil), Logger: quietLogger(),
		FlightRecorder: FlightRecorderConfig{Budget: time.Second}})
	if err != nil {
		t.Fatalf("Start while the service runs trace.Start: %v", err)
	}
	if err := obs.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Shutdown stopped the recorder: another may start.
	fr, err := flightrecorder.New(flightrecorder.Config{Budget: time.Second})
	if err != nil {
		t.Fatalf("flight recorder after Shutdown: %v", err)
	}
	fr.Stop(context.Background())
}
