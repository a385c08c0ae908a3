package middleware

import (
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/internal/instrument"
)

// HTTP wraps next so that every request it serves is recorded. It panics only when opts are
// invalid, at construction, never per request; New returns the same validation as an error, and
// its Recorder, passed alone as opts, builds a handler that cannot panic.
func HTTP(next http.Handler, opts ...Option) http.Handler {
	return &handler{rec: recorderFor("middleware.HTTP", instrument.HTTPServer, opts), next: next}
}

type handler struct {
	rec  *Recorder
	next http.Handler
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cfg := h.rec.cfg
	if (cfg.SkipPaths != nil || cfg.Skip != nil) && cfg.Skipped(r) {
		h.next.ServeHTTP(w, r)
		return
	}
	c := h.rec.pool.Get().(*core)
	c.reset(w)
	method := methodIndex(r.Method)
	var scheme uint8
	if r.TLS != nil {
		scheme = 1
	}
	var span trace.Span
	if cfg.Tracer != nil {
		r, span = h.startServerSpan(r, method, scheme)
	}
	if cfg.FlightRecorder != nil {
		r, c.task, c.taskName = h.startTask(r, span)
	}
	active := int(method)*2 + int(scheme)
	h.rec.server.active.Add(active, c.shard, 1)
	if h.rec.server.sizes && r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody {
		c.body.rc = r.Body
		r.Body = &c.body
	}
	start := h.rec.since()
	defer h.done(c, r, start, method, scheme, active, span)
	h.next.ServeHTTP(c.wrap(interfaceMask(w)), r)
	c.returned = true
}

// done records the request. It runs deferred, so it also sees panics: a panic is recorded as
// status 500 (or the status already sent) with error_type "panic" and then goes on; a panic with
// http.ErrAbortHandler, or runtime.Goexit, is recorded with error_type "aborted".
func (h *handler) done(c *core, r *http.Request, start time.Duration, method, scheme uint8, active int, span trace.Span) {
	end := h.rec.since()
	elapsed := end - start
	var panicked any
	kind := errNone
	if !c.returned {
		panicked = recover()
		kind = errPanic
		if panicked == nil || panicked == http.ErrAbortHandler {
			kind = errAborted
		}
		if !c.wroteHeader {
			c.status = http.StatusInternalServerError
		}
	} else if !c.wroteHeader && !c.hijacked {
		c.status = http.StatusOK
	}
	if kind == errNone && c.status >= 500 {
		kind = errStatus
	}
	m := h.rec.server
	m.active.Add(active, c.shard, -1)

	key := serverKey{route: h.route(c, r), status: uint16(c.status), method: method, scheme: scheme, err: kind}
	hist := c.durationSeries(m.duration, key)
	if hist == nil {
		key.route = m.routes.Admit(key.route)
		hist = m.duration.GetOrCreate(key, key.labels)
	}
	if c.task != nil {
		h.flightDone(r.Context(), c.task, c.taskName, span, key.route, elapsed)
	}
	if span != nil {
		h.endServerSpan(span, key, key.route, panicked, m, hist, c.shard, end, elapsed)
	} else {
		m.duration.Observe(hist, c.shard, int64(elapsed))
	}
	if m.sizes {
		size := r.ContentLength
		if c.body.rc != nil {
			size = c.body.n
			r.Body = c.body.rc
		}
		if size < 0 {
			size = 0
		}
		m.reqSize.Observe(m.reqSize.GetOrCreate(key, key.labels), c.shard, size)
		if !c.hijacked {
			m.respSize.Observe(m.respSize.GetOrCreate(key, key.labels), c.shard, c.written)
		}
	}
	c.w = nil
	c.body = countingBody{}
	h.rec.pool.Put(c)
	if panicked != nil {
		panic(panicked)
	}
}

// route finds the request's route template: SetRoute, then the ServeMux pattern, then the mux
// named by WithServeMux, then WithRouteFunc; else catalog.UnmatchedRoute.
func (h *handler) route(c *core, r *http.Request) string {
	if c.route != "" {
		return c.route
	}
	if route := c.patternRoute(r.Pattern); route != "" {
		return route
	}
	cfg := h.rec.cfg
	if cfg.ServeMux != nil {
		if _, pattern := cfg.ServeMux.Handler(r); pattern != "" {
			return RouteFromPattern(pattern)
		}
	}
	if cfg.RouteFunc != nil {
		if route := cfg.RouteFunc(r); route != "" {
			return route
		}
	}
	return catalog.UnmatchedRoute
}

// RouteFromPattern returns the path template of a ServeMux pattern, as the semantic conventions
// define http.route: the method and host are dropped and a trailing {$} is removed, so
// "GET example.com/users/{id}" gives "/users/{id}" and "GET /{$}" gives "/". It returns "" for a
// pattern without a path. It does not allocate.
func RouteFromPattern(pattern string) string {
	// A pattern is "[METHOD ][HOST]/[PATH]"; neither a method nor a host contains '/', so the
	// path starts at the first '/'.
	i := strings.IndexByte(pattern, '/')
	if i < 0 {
		return ""
	}
	return strings.TrimSuffix(pattern[i:], "{$}")
}
