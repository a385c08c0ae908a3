package perfobs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/perfobs/perfobs-go/alerts"
	"github.com/perfobs/perfobs-go/flightrecorder"
	"github.com/perfobs/perfobs-go/middleware"
	"github.com/perfobs/perfobs-go/perfobs/tracesummary"
)

// FlightRecorderConfig turns on execution traces of slow requests (package flightrecorder): the
// runtime keeps the last seconds of execution trace in memory, and a request over its latency
// budget writes a snapshot, served by DebugHandler under /debug/perfobs/api/traces. The zero
// value is off.
type FlightRecorderConfig struct {
	// Budget is the latency budget of every HTTP route and gRPC method. Zero:
	// PERFOBS_FLIGHT_RECORDER_BUDGET (a Go duration, "50ms"), else flight recording is off.
	Budget time.Duration
	// Budgets override Budget per route ("/users/{id}") or gRPC method ("shop.Cart/Add").
	Budgets map[string]time.Duration
	// SLOs, when set (else Config.SLOs), give each route or method that a latency SLO names
	// its threshold as budget, unless Budgets names it. An SLO over every route leaves Budget the
	// default.
	SLOs *alerts.Model
	// Window, MaxBytes, Cooldown, Keep, MaxMemoryBytes and MaxDiskBytes are those of
	// flightrecorder.Config; zero keeps its defaults (window twice the largest budget, one
	// snapshot per route per minute, the last 10 kept).
	Window         time.Duration
	MaxBytes       uint64
	Cooldown       time.Duration
	Keep           int
	MaxMemoryBytes int64
	MaxDiskBytes   int64
	// Dir keeps the snapshots as files there instead of memory. Empty: PERFOBS_FLIGHT_RECORDER_DIR,
	// else memory.
	Dir string
}

// Environment variables of the flight recorder.
const (
	envFlightBudget = "PERFOBS_FLIGHT_RECORDER_BUDGET"
	envFlightDir    = "PERFOBS_FLIGHT_RECORDER_DIR"
)

// Paths DebugHandler serves the snapshots under.
const (
	tracesAPIPath   = "/debug/perfobs/api/traces"
	tracesFilesPath = "/debug/perfobs/traces/"
)

// flightState is the Observer's flight recorder, with the summaries it computed.
type flightState struct {
	rec *flightrecorder.Recorder

	mu        sync.Mutex
	summaries map[string]summaryResult // by snapshot id
}

type summaryResult struct {
	s   *tracesummary.Summary
	err error
}

// flightConfig resolves cfg against the environment; ok is false when flight recording is off.
func flightConfig(rc *resolved, reg prometheus.Registerer) (flightrecorder.Config, bool, error) {
	fc := rc.FlightRecorder
	budget := fc.Budget
	if budget < 0 {
		//lint:ignore ST1005 a configuration error starts with the field it names
		return flightrecorder.Config{}, false, fmt.Errorf("Budget %v must not be negative", budget)
	}
	if budget == 0 {
		v, ok := rc.LookupEnv(envFlightBudget)
		if !ok || strings.TrimSpace(v) == "" {
			return flightrecorder.Config{}, false, nil
		}
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil || d < 0 {
			return flightrecorder.Config{}, false, fmt.Errorf("%s=%q: want a non-negative Go duration such as 50ms", envFlightBudget, v)
		}
		if d == 0 {
			return flightrecorder.Config{}, false, nil
		}
		budget = d
	}
	dir := fc.Dir
	if dir == "" {
		dir, _ = rc.LookupEnv(envFlightDir)
	}
	budgets := map[string]time.Duration{}
	model := fc.SLOs
	if model == nil {
		model = rc.SLOs
	}
	if model != nil {
		for _, slo := range model.SLOs {
			if slo.Kind != "latency" || !(slo.Threshold > 0) {
				continue
			}
			th := time.Duration(slo.Threshold * float64(time.Second))
			for _, route := range append(append([]string(nil), slo.Routes...), slo.Methods...) {
				if b, ok := budgets[route]; !ok || th < b { // the tightest SLO of a route wins
					budgets[route] = th
				}
			}
		}
	}
	for route, b := range fc.Budgets {
		budgets[route] = b
	}
	return flightrecorder.Config{
		Budget: budget, Budgets: budgets, Window: fc.Window, MaxBytes: fc.MaxBytes, Cooldown: fc.Cooldown,
		Keep: fc.Keep, MaxMemoryBytes: fc.MaxMemoryBytes, Dir: dir, MaxDiskBytes: fc.MaxDiskBytes,
		Registerer: reg, Logger: rc.Logger,
	}, true, nil
}

// startFlightRecorder starts the flight recorder when the configuration asks for it and adds
// its option to the middleware's. Another flight recorder in the process is an error wrapping
// flightrecorder.ErrActive: the runtime allows one.
func (o *Observer) startFlightRecorder() error {
	cfg, on, err := flightConfig(o.cfg, o.reg)
	if err != nil || !on {
		return err
	}
	rec, err := flightrecorder.New(cfg)
	if err != nil {
		return err
	}
	o.flight = &flightState{rec: rec, summaries: map[string]summaryResult{}}
	o.mwOpts = append(o.mwOpts, middleware.WithFlightRecorder(rec))
	return nil
}

// FlightRecorder returns the Observer's flight recorder, nil when flight recording is off.
func (o *Observer) FlightRecorder() *flightrecorder.Recorder {
	if o.flight == nil {
		return nil
	}
	return o.flight.rec
}

// shutdown stops the recorder (nil: off).
func (f *flightState) shutdown(ctx context.Context) error {
	if f == nil {
		return nil
	}
	return f.rec.Stop(ctx)
}

// summary is the summary of snapshot id for its triggering request, computed once.
func (f *flightState) summary(id string) (*tracesummary.Summary, error) {
	f.mu.Lock()
	if r, ok := f.summaries[id]; ok {
		f.mu.Unlock()
		return r.s, r.err
	}
	f.mu.Unlock()
	snap, ok := f.rec.Snapshot(id)
	if !ok {
		return nil, fmt.Errorf("snapshot %q: %w", id, os.ErrNotExist)
	}
	rd, err := f.rec.Open(id)
	if err != nil {
		return nil, err
	}
	s, err := tracesummary.Summarize(rd, tracesummary.Options{TraceID: snap.TraceID})
	rd.Close()
	f.mu.Lock()
	defer f.mu.Unlock()
	kept := map[string]bool{}
	for _, k := range f.rec.Snapshots() {
		kept[k.ID] = true
	}
	for k := range f.summaries { // forget the summaries of dropped snapshots
		if !kept[k] {
			delete(f.summaries, k)
		}
	}
	f.summaries[id] = summaryResult{s, err}
	return s, err
}

// traceItem is one entry of /debug/perfobs/api/traces.
type traceItem struct {
	ID              string         `json:"id"`
	Route           string         `json:"route"`
	TraceID         string         `json:"trace_id"`
	DurationSeconds float64        `json:"duration_seconds"`
	BudgetSeconds   float64        `json:"budget_seconds"`
	Time            string         `json:"time"`
	SizeBytes       int64          `json:"size_bytes"`
	URL             string         `json:"url"`
	Summary         string         `json:"summary"`
	SummaryURL      string         `json:"summary_url"`
	Requests        []traceRequest `json:"requests"`
}

type traceRequest struct {
	Route           string  `json:"route"`
	TraceID         string  `json:"trace_id"`
	DurationSeconds float64 `json:"duration_seconds"`
}

// flightRecorderHandler serves the flight-recorder snapshots for DebugHandler, which mounts it at
// /debug/perfobs/api/traces (the JSON list, newest first) and /debug/perfobs/traces/ (ID.trace,
// the file `go tool trace` opens; ID.summary.txt and ID.summary.json, what it shows about the
// slow request, which ?trace_id= picks among the merged ones). Off, the list is empty.
func (o *Observer) flightRecorderHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if r.URL.Path == tracesAPIPath {
			o.serveTraceList(w)
			return
		}
		name, ok := strings.CutPrefix(r.URL.Path, tracesFilesPath)
		if !ok || o.flight == nil {
			http.NotFound(w, r)
			return
		}
		switch {
		case strings.HasSuffix(name, ".trace"):
			o.serveTraceFile(w, r, strings.TrimSuffix(name, ".trace"))
		case strings.HasSuffix(name, ".summary.txt"), strings.HasSuffix(name, ".summary.json"):
			id, _, _ := strings.Cut(name, ".summary.")
			o.serveTraceSummary(w, r, id, strings.HasSuffix(name, ".json"))
		default:
			http.NotFound(w, r)
		}
	})
}

func (o *Observer) serveTraceList(w http.ResponseWriter) {
	items := []traceItem{}
	if o.flight != nil {
		for _, s := range o.flight.rec.Snapshots() {
			it := traceItem{ID: s.ID, Route: s.Route, TraceID: s.TraceID, DurationSeconds: s.Duration.Seconds(),
				BudgetSeconds: s.Budget.Seconds(), Time: s.Time.UTC().Format(time.RFC3339Nano), SizeBytes: s.Size,
				URL: tracesFilesPath + s.ID + ".trace", SummaryURL: tracesFilesPath + s.ID + ".summary.txt"}
			if sum, err := o.flight.summary(s.ID); err != nil {
				it.Summary = "no summary: " + err.Error()
			} else {
				it.Summary = sum.Short()
			}
			for _, q := range s.Requests {
				it.Requests = append(it.Requests, traceRequest{q.Route, q.TraceID, q.Duration.Seconds()})
			}
			items = append(items, it)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(items)
}

func (o *Observer) serveTraceFile(w http.ResponseWriter, r *http.Request, id string) {
	snap, ok := o.flight.rec.Snapshot(id)
	if !ok {
		http.NotFound(w, r)
		return
	}
	f, err := o.flight.rec.Open(id)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+id+`.trace"`)
	http.ServeContent(w, r, id+".trace", snap.Time, f)
}

func (o *Observer) serveTraceSummary(w http.ResponseWriter, r *http.Request, id string, asJSON bool) {
	var s *tracesummary.Summary
	var err error
	if tid := r.URL.Query().Get("trace_id"); tid != "" {
		s, err = o.flight.summaryFor(id, tid)
	} else {
		s, err = o.flight.summary(id)
	}
	switch {
	case errors.Is(err, os.ErrNotExist):
		http.NotFound(w, r)
		return
	case errors.Is(err, tracesummary.ErrNoTask):
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	case err != nil:
		http.Error(w, "summarizing the snapshot: "+err.Error(), http.StatusInternalServerError)
		return
	}
	if asJSON {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s)
		return
	}
	var b bytes.Buffer
	_ = s.WriteText(&b)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write(b.Bytes())
}

// summaryFor summarizes another request of snapshot id (one merged into it), not cached.
func (f *flightState) summaryFor(id, traceID string) (*tracesummary.Summary, error) {
	if _, ok := f.rec.Snapshot(id); !ok {
		return nil, fmt.Errorf("snapshot %q: %w", id, os.ErrNotExist)
	}
	rd, err := f.rec.Open(id)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	return tracesummary.Summarize(rd, tracesummary.Options{TraceID: traceID})
}
