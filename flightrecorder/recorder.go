package flightrecorder

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime/trace"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of Config's zero fields.
const (
	DefaultCooldown       = time.Minute
	DefaultKeep           = 10
	DefaultMaxBytes       = 16 << 20  // the runtime's in-memory window
	DefaultMaxMemoryBytes = 64 << 20  // snapshots kept in memory
	DefaultMaxDiskBytes   = 256 << 20 // snapshots kept in Dir
	// MinWindow is the shortest window: the runtime cuts the trace into generations of about a
	// second, so a shorter one keeps nothing less.
	MinWindow = time.Second
	// maxRoutes bounds the per-route cooldown table when the routes are not capped upstream.
	maxRoutes = 10000
	// mergeDelay is how long a snapshot waits for other slow requests ending at the same moment
	// (all waiting on one lock, say) so that one snapshot covers them all.
	mergeDelay = 10 * time.Millisecond
)

// Trace-log categories the middleware writes in each request's task, which the summarizer
// (package perfobs/tracesummary) reads back.
const (
	// LogTraceID carries the request's OpenTelemetry trace id (hex), when it has a valid one.
	LogTraceID = "trace_id"
	// LogRoute carries the route when the task could not be named by it at the start (a router
	// other than http.ServeMux resolves it only after serving).
	LogRoute = "route"
)

// Reasons a trigger is skipped (the reason label of catalog.FlightRecorderSkipped).
const (
	SkipCooldown = "cooldown" // the route had a snapshot within the cooldown
	SkipBusy     = "busy"     // a snapshot was being written (WriteTo allows one writer at a time)
	SkipCap      = "cap"      // the snapshot alone was larger than the memory or disk cap
	SkipError    = "error"    // writing the snapshot failed
)

// ErrActive is returned by New when the process already runs a flight recorder: the Go runtime
// allows only one.
var ErrActive = errors.New("another runtime/trace flight recorder is already active in this process")

// Config configures a Recorder. Only Budget or Budgets is needed; each zero field says its default.
type Config struct {
	// Budget is the latency budget of every route without its own in Budgets. Zero: only the
	// routes in Budgets are watched.
	Budget time.Duration
	// Budgets are per-route budgets: keys are http_route values ("/users/{id}") or gRPC
	// rpc_method values ("shop.Cart/Add").
	Budgets map[string]time.Duration
	// Window is the age of the trace kept in memory. Zero: twice the largest budget (the Go
	// blog's advice: about twice the event), at least MinWindow. A request longer than the
	// window loses its start from the snapshot.
	Window time.Duration
	// MaxBytes caps the runtime's in-memory window; it wins over Window. Zero: DefaultMaxBytes.
	MaxBytes uint64
	// Cooldown is the least time between two snapshots triggered by one route. Zero:
	// DefaultCooldown; negative: none.
	Cooldown time.Duration
	// Keep is how many snapshots are kept; older ones are dropped. Zero: DefaultKeep.
	Keep int
	// MaxMemoryBytes caps the snapshots kept in memory (when Dir is empty). Zero:
	// DefaultMaxMemoryBytes.
	MaxMemoryBytes int64
	// Dir, when set, keeps snapshots as files (ID + ".trace") in this directory instead of
	// memory. The directory must exist. Files of dropped snapshots are removed; the kept ones
	// stay after Stop.
	Dir string
	// MaxDiskBytes caps the snapshot files in Dir. Zero: DefaultMaxDiskBytes.
	MaxDiskBytes int64
	// Registerer receives the snapshot counters. Nil: they are kept but not registered.
	Registerer prometheus.Registerer
	// Logger receives write errors. Nil: slog.Default().
	Logger *slog.Logger
}

// Snapshot describes one snapshot: the trace window written when Route's request (and any
// merged into it) broke its budget.
type Snapshot struct {
	ID       string        // unique in the process; also the file name without ".trace"
	Time     time.Time     // when the snapshot was written
	Route    string        // the route of the request that triggered it
	TraceID  string        // that request's trace id; empty without tracing
	Duration time.Duration // that request's duration
	Budget   time.Duration // that route's budget
	Size     int64         // bytes
	Requests []Request     // every slow request the snapshot covers, the trigger first
}

// Request is one slow request covered by a snapshot.
type Request struct {
	Route    string
	TraceID  string
	Duration time.Duration
	Budget   time.Duration
}

// Recorder runs the flight recorder and takes the snapshots. Its methods are safe for concurrent use.
type Recorder struct {
	cfg      Config
	budget   time.Duration
	budgets  map[string]time.Duration // read-only after New
	window   time.Duration
	fr       *trace.FlightRecorder
	store    store
	taken    prometheus.Counter
	skipped  *prometheus.CounterVec
	wake     chan struct{}
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once

	mu      sync.Mutex
	last    map[string]time.Time // last trigger per route
	pending *Snapshot            // scheduled, not yet written
	writing bool
	stopped bool
	seq     uint64
	kept    []Snapshot // oldest first
}

// New validates cfg, starts the runtime's flight recorder and the goroutine that writes
// snapshots. Stop ends both. It fails with an error wrapping ErrActive when another flight
// recorder runs in the process.
func New(cfg Config) (*Recorder, error) {
	var errs []error
	if cfg.Budget < 0 {
		errs = append(errs, fmt.Errorf("Budget %v must not be negative", cfg.Budget))
	}
	largest := cfg.Budget
	budgets := make(map[string]time.Duration, len(cfg.Budgets))
	routes := make([]string, 0, len(cfg.Budgets))
	for route := range cfg.Budgets {
		routes = append(routes, route)
	}
	sort.Strings(routes) // errors in a stable order
	for _, route := range routes {
		b := cfg.Budgets[route]
		if b <= 0 {
			//lint:ignore ST1005 a configuration error starts with the field it names
			errs = append(errs, fmt.Errorf("Budgets[%q]: budget %v must be positive", route, b))
			continue
		}
		budgets[route] = b
		largest = max(largest, b)
	}
	if cfg.Budget <= 0 && len(budgets) == 0 && len(errs) == 0 {
		errs = append(errs, errors.New("Budget: no budget set (set Budget or Budgets)"))
	}
	if cfg.Window < 0 {
		errs = append(errs, fmt.Errorf("Window %v must not be negative", cfg.Window))
	}
	if cfg.Keep < 0 {
		//lint:ignore ST1005 a configuration error starts with the field it names
		errs = append(errs, fmt.Errorf("Keep %d must not be negative", cfg.Keep))
	}
	if cfg.MaxMemoryBytes < 0 {
		errs = append(errs, fmt.Errorf("MaxMemoryBytes %d must not be negative", cfg.MaxMemoryBytes))
	}
	if cfg.MaxDiskBytes < 0 {
		errs = append(errs, fmt.Errorf("MaxDiskBytes %d must not be negative", cfg.MaxDiskBytes))
	}
	if cfg.MaxBytes > math.MaxInt64 {
		errs = append(errs, fmt.Errorf("MaxBytes %d is too large", cfg.MaxBytes))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("invalid flight recorder configuration: %w", err)
	}
	if cfg.Cooldown == 0 {
		cfg.Cooldown = DefaultCooldown
	}
	if cfg.Keep == 0 {
		cfg.Keep = DefaultKeep
	}
	if cfg.MaxMemoryBytes == 0 {
		cfg.MaxMemoryBytes = DefaultMaxMemoryBytes
	}
	if cfg.MaxDiskBytes == 0 {
		cfg.MaxDiskBytes = DefaultMaxDiskBytes
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	window := cfg.Window
	if window == 0 {
		window = max(2*largest, MinWindow)
	}
	var st store = &memStore{}
	if cfg.Dir != "" {
		ds, err := newDiskStore(cfg.Dir)
		if err != nil {
			return nil, fmt.Errorf("invalid flight recorder configuration: Dir: %w", err)
		}
		st = ds
	}
	r := &Recorder{
		cfg: cfg, budget: cfg.Budget, budgets: budgets, window: window, store: st,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		last: map[string]time.Time{},
	}
	if err := r.registerMetrics(cfg.Registerer); err != nil {
		return nil, err
	}
	r.fr = trace.NewFlightRecorder(trace.FlightRecorderConfig{MinAge: window, MaxBytes: cfg.MaxBytes})
	if err := r.fr.Start(); err != nil {
		return nil, fmt.Errorf("flight recorder: %w (%v)", ErrActive, err)
	}
	go r.run()
	return r, nil
}

// Window returns the age of the trace the recorder keeps.
func (r *Recorder) Window() time.Duration { return r.window }

// Budget returns route's budget; zero when the route is not watched.
func (r *Recorder) Budget(route string) time.Duration {
	if b, ok := r.budgets[route]; ok {
		return b
	}
	return r.budget
}

// Observe reports that a request of route, with trace id traceID (empty when none), took d. When
// d is over the route's budget it schedules a snapshot, unless the route is in its cooldown or a
// snapshot is being written, and returns the id of the snapshot that will cover the request;
// else it returns "". It never waits for the snapshot.
func (r *Recorder) Observe(route, traceID string, d time.Duration) string {
	b := r.Budget(route)
	if b <= 0 || d <= b {
		return ""
	}
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return ""
	}
	if t, ok := r.last[route]; ok && r.cfg.Cooldown > 0 && now.Sub(t) < r.cfg.Cooldown {
		r.skipped.WithLabelValues(SkipCooldown).Inc()
		return ""
	}
	req := Request{Route: route, TraceID: traceID, Duration: d, Budget: b}
	if r.pending != nil { // merge: the pending snapshot is written after this request ended
		r.pending.Requests = append(r.pending.Requests, req)
		r.markRoute(route, now)
		return r.pending.ID
	}
	if r.writing {
		r.skipped.WithLabelValues(SkipBusy).Inc()
		return ""
	}
	r.seq++
	r.pending = &Snapshot{
		ID:    now.UTC().Format("20060102T150405Z") + "-" + strconv.FormatUint(r.seq, 10),
		Route: route, TraceID: traceID, Duration: d, Budget: b, Requests: []Request{req},
	}
	r.markRoute(route, now)
	select {
	case r.wake <- struct{}{}:
	default:
	}
	return r.pending.ID
}

// markRoute starts route's cooldown; r.mu is held.
func (r *Recorder) markRoute(route string, now time.Time) {
	if _, ok := r.last[route]; !ok && len(r.last) >= maxRoutes {
		for k, t := range r.last { // forget routes whose cooldown is over
			if now.Sub(t) >= r.cfg.Cooldown {
				delete(r.last, k)
			}
		}
		if len(r.last) >= maxRoutes {
			return
		}
	}
	r.last[route] = now
}

// run writes the pending snapshots until Stop.
func (r *Recorder) run() {
	defer close(r.done)
	defer r.fr.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-r.wake:
		}
		select { // let requests ending at the same moment join the snapshot
		case <-r.stop:
			return
		case <-time.After(mergeDelay):
		}
		r.mu.Lock()
		s := r.pending
		r.pending = nil
		r.writing = s != nil
		r.mu.Unlock()
		if s != nil {
			r.write(s)
		}
	}
}

// write takes the snapshot s and keeps it, dropping the oldest beyond the caps.
func (r *Recorder) write(s *Snapshot) {
	s.Time = time.Now()
	size, err := r.store.write(s.ID, r.fr.WriteTo)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writing = false
	if err != nil {
		r.skipped.WithLabelValues(SkipError).Inc()
		r.cfg.Logger.Warn("perfobs: flight recorder snapshot failed", "snapshot", s.ID, "route", s.Route, "error", err)
		return
	}
	s.Size = size
	limit := r.cfg.MaxMemoryBytes
	if r.cfg.Dir != "" {
		limit = r.cfg.MaxDiskBytes
	}
	if size > limit {
		r.store.remove(s.ID)
		r.skipped.WithLabelValues(SkipCap).Inc()
		r.cfg.Logger.Warn("perfobs: flight recorder snapshot larger than its cap, dropped",
			"snapshot", s.ID, "bytes", size, "cap", limit)
		return
	}
	r.kept = append(r.kept, *s)
	total := int64(0)
	for _, k := range r.kept {
		total += k.Size
	}
	for len(r.kept) > r.cfg.Keep || total > limit {
		total -= r.kept[0].Size
		r.store.remove(r.kept[0].ID)
		r.kept = r.kept[1:]
	}
	r.taken.Inc()
}

// Snapshots returns the kept snapshots, newest first.
func (r *Recorder) Snapshots() []Snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Snapshot, len(r.kept))
	for i, s := range r.kept {
		s.Requests = append([]Request(nil), s.Requests...)
		out[len(r.kept)-1-i] = s
	}
	return out
}

// Snapshot returns the kept snapshot id.
func (r *Recorder) Snapshot(id string) (Snapshot, bool) {
	for _, s := range r.Snapshots() {
		if s.ID == id {
			return s, true
		}
	}
	return Snapshot{}, false
}

// Stop stops the runtime's flight recorder and the snapshot goroutine, waiting within ctx for a
// snapshot being written. Later calls return nil at once. Kept snapshots stay readable.
func (r *Recorder) Stop(ctx context.Context) error {
	first := false
	r.stopOnce.Do(func() {
		first = true
		r.mu.Lock()
		r.stopped = true
		r.pending = nil
		r.mu.Unlock()
		close(r.stop)
	})
	if !first {
		return nil
	}
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		// The goroutine still ends, and stops the runtime's recorder, once its WriteTo returns.
		return fmt.Errorf("flight recorder: stop: %w", ctx.Err())
	}
}
