package status

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Source is what the page reads.
type Source struct {
	Gatherer                      prometheus.Gatherer
	Service, Version, Environment string
	Started                       time.Time
	// Profiling reports the profiler's state; nil when profiling is off.
	Profiling func() Profiling
	// SLOs are the objectives of the SLO panel; none: no panel.
	SLOs []SLO
	// Traces serves /debug/perfobs/api/traces (a JSON list) and /debug/perfobs/traces/ (the
	// snapshot files): the flight recorder's.
	Traces http.Handler

	// Interval is the time between two snapshots of the ring (0: 10 s); Now reads the clock (nil:
	// time.Now). Tests set them.
	Interval time.Duration
	Now      func() time.Time
	// ManualTicks leaves the sampler's ticks to the test (sampler.tick): no goroutine runs.
	ManualTicks bool
}

const defaultInterval = 10 * time.Second

// Handler serves the page and its API under /debug/perfobs/.
type Handler struct {
	src     Source
	now     func() time.Time
	sampler *sampler
	mux     *http.ServeMux
	once    sync.Once
}

// New returns the handler for src. Close stops its sampler.
func New(src Source) *Handler {
	h := &Handler{src: src, now: src.Now}
	if h.now == nil {
		h.now = time.Now
	}
	interval := src.Interval
	if interval <= 0 {
		interval = defaultInterval
	}
	h.sampler = newSampler(src.Gatherer, interval, time.Hour, h.now)
	h.sampler.manual = src.ManualTicks
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/perfobs/{$}", h.page)
	mux.HandleFunc("GET /debug/perfobs/static/style.css", serveCSS)
	mux.HandleFunc("GET /debug/perfobs/api/{$}", h.apiIndex)
	mux.HandleFunc("GET /debug/perfobs/api/red", h.apiRED)
	mux.HandleFunc("GET /debug/perfobs/api/runtime", h.apiRuntime)
	mux.HandleFunc("GET /debug/perfobs/api/profiling", h.apiProfiling)
	mux.HandleFunc("GET /debug/perfobs/api/slo", h.apiSLO)
	if src.Traces != nil {
		mux.Handle("GET /debug/perfobs/api/traces", src.Traces)
		mux.Handle("GET /debug/perfobs/traces/", src.Traces)
	}
	h.mux = mux
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.sampler.look()
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	h.mux.ServeHTTP(w, r)
}

// Close stops the sampler and waits for it.
func (h *Handler) Close() { h.once.Do(h.sampler.close) }

// Sampling reports whether the sampler runs (tests).
func (h *Handler) Sampling() bool { return h.sampler.isRunning() }

// API is the index at /debug/perfobs/api/.
var API = map[string]string{
	"red":       "/debug/perfobs/api/red",
	"runtime":   "/debug/perfobs/api/runtime",
	"profiling": "/debug/perfobs/api/profiling",
	"slo":       "/debug/perfobs/api/slo",
	"traces":    "/debug/perfobs/api/traces",
}

func (h *Handler) apiIndex(w http.ResponseWriter, _ *http.Request) { writeJSON(w, API) }

func (h *Handler) apiRED(w http.ResponseWriter, _ *http.Request) {
	rep, _ := h.red() // a failed collector leaves its series out; the rest is served
	writeJSON(w, rep)
}

func (h *Handler) apiRuntime(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, readRuntime(h.src.Started, h.now()))
}

func (h *Handler) apiProfiling(w http.ResponseWriter, _ *http.Request) { writeJSON(w, h.profiling()) }

func (h *Handler) apiSLO(w http.ResponseWriter, _ *http.Request) {
	rep, _ := h.red()
	writeJSON(w, sloStatus(h.src.SLOs, rep.Rows))
}

func (h *Handler) profiling() Profiling {
	if h.src.Profiling == nil {
		return Profiling{Dropped: map[string]float64{}}
	}
	return h.src.Profiling()
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(append(b, '\n'))
}

// recorder is a ResponseWriter in memory, to read the traces handler's list for the page.
type recorder struct {
	h      http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header {
	if r.h == nil {
		r.h = http.Header{}
	}
	return r.h
}
func (r *recorder) WriteHeader(s int) {
	if r.status == 0 {
		r.status = s
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}
