package perfobs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	pyroscope "github.com/grafana/pyroscope-go"
	"github.com/grafana/pyroscope-go/godeltaprof"
	"github.com/grafana/pyroscope-go/upstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/perfobs/perfobs-go/catalog"
)

// Environment variables read by profiling when the matching ProfilingConfig field is empty.
const (
	EnvPyroscopeServerAddress     = "PYROSCOPE_SERVER_ADDRESS"
	EnvPyroscopeBasicAuthUser     = "PYROSCOPE_BASIC_AUTH_USER"
	EnvPyroscopeBasicAuthPassword = "PYROSCOPE_BASIC_AUTH_PASSWORD"
	EnvPyroscopeTenantID          = "PYROSCOPE_TENANT_ID"
)

// ProfilingConfig configures continuous profiling with Pyroscope (github.com/grafana/pyroscope-go).
// Profiling runs when ServerAddress or PYROSCOPE_SERVER_ADDRESS is set and Disabled is false. The
// zero value, with no environment, profiles nothing.
//
// The application name is the service name; the version and environment become the tags
// "version" and "environment". By default CPU, heap (alloc_objects, alloc_space, inuse_objects,
// inuse_space) and goroutine profiles are uploaded every UploadRate; mutex and block profiles are
// added when their rates are set.
//
// What it costs, and what it never does:
//   - CPU profiling samples at 100 Hz (pprof's default); heap profiles come from the runtime's
//     sampling of allocations (runtime.MemProfileRate) at no extra cost.
//   - No forced GC: pyroscope-go's own session forces a runtime.GC before a heap upload when no GC
//     ran in the interval and reads runtime.MemStats (a stop-the-world) once per upload tick to
//     find out. perfobs drives the heap, mutex and block profiles itself with pyroscope-go's
//     godeltaprof, reads the GC count from runtime/metrics instead of MemStats, and forces no GC
//     unless ForceGC is set. Only Shutdown runs one GC, when none ran since the last heap upload,
//     so that the last interval's allocations are in the final heap profile.
//   - The goroutine profile stops the world briefly once per upload tick (as every goroutine
//     profile does); DisableGoroutines turns it off.
//   - A Pyroscope server that is down, slow or answering errors never blocks the service: uploads
//     run on two background goroutines with UploadTimeout each, from a queue of bounded length;
//     a profile that finds the queue full is dropped. Errors reach the logger at most once per
//     minute, with the count of errors not logged. Every profile not uploaded (queue full, upload
//     failed, or still queued when Shutdown's context ends) is counted by reason in
//     perfobs_profiling_dropped_total, which the Observer serves.
//
// CPU profiling is process-wide: run one profiling Observer per process. While it runs,
// runtime/pprof.StartCPUProfile elsewhere in the process fails (and so does net/http/pprof's
// /debug/pprof/profile); Observer.PprofHandler's /debug/pprof/profile cooperates with it instead.
type ProfilingConfig struct {
	// Disabled turns profiling off even when PYROSCOPE_SERVER_ADDRESS is set.
	Disabled bool
	// ServerAddress is the base URL of Pyroscope's ingest API, such as "http://pyroscope:4040".
	// Empty: PYROSCOPE_SERVER_ADDRESS.
	ServerAddress string
	// BasicAuthUser and BasicAuthPassword authenticate uploads with HTTP basic auth when both are
	// set. Empty: PYROSCOPE_BASIC_AUTH_USER and PYROSCOPE_BASIC_AUTH_PASSWORD.
	BasicAuthUser     string
	BasicAuthPassword string
	// TenantID is sent as X-Scope-OrgID for multi-tenant Pyroscope. Empty: PYROSCOPE_TENANT_ID.
	TenantID string
	// Tags are added to every profile, after version and environment (a tag here wins). Names
	// may hold ASCII letters, digits, '_' and '.'; values may not hold '{', '}', ',' or '='.
	Tags map[string]string
	// UploadRate is how often profiles are uploaded. Zero: 15 s.
	UploadRate time.Duration
	// UploadTimeout bounds one upload, connection included. Zero: 10 s.
	UploadTimeout time.Duration
	// DisableCPU, DisableHeap and DisableGoroutines turn off one profile type each.
	DisableCPU        bool
	DisableHeap       bool
	DisableGoroutines bool
	// MutexProfileFraction, when positive, turns on mutex profiling: on average 1 in
	// MutexProfileFraction contention events is sampled (runtime.SetMutexProfileFraction). The
	// setting is process-wide; Shutdown restores the previous fraction.
	MutexProfileFraction int
	// BlockProfileRate, when positive, turns on block profiling: on average one blocking event per
	// BlockProfileRate nanoseconds spent blocked is sampled (runtime.SetBlockProfileRate). The
	// setting is process-wide; Shutdown sets it back to 0.
	BlockProfileRate int
	// ForceGC restores pyroscope-go's forced GC: before a heap upload, when no GC ran during the
	// interval, run one so that the heap profile is fresh. Off by default: it costs a GC per
	// interval on idle services (pyroscope-go's DisableGCRuns).
	ForceGC bool
}

// profilingApp names what is profiled.
type profilingApp struct {
	service     string
	version     string
	environment string
}

const (
	defaultUploadRate    = 15 * time.Second
	defaultUploadTimeout = 10 * time.Second
	uploadQueueLength    = 16 // at most this many profiles wait; each is tens of KiB
	uploadWorkers        = 2
	logEvery             = time.Minute
	// shutdownGrace is how long shutdown waits, once its context is done, for in-flight work that it
	// has just cancelled.
	shutdownGrace = time.Second
)

// profiler is one running profiling session.
type profiler struct {
	cfg      ProfilingConfig
	log      *limitedLogger
	up       *uploader
	cpu      *pyroscope.Session // nil when CPU profiling is off
	names    profileNames
	stop     chan struct{}
	loopDone chan struct{}

	prevMutexFraction int

	// Used only by the loop goroutine.
	heap, mutex, block deltaProfiler
	lastGC             uint64
	buf                bytes.Buffer

	once sync.Once
	err  error
}

// resolvedProfiling is a ProfilingConfig with the environment applied and defaults filled in.
func resolveProfiling(cfg ProfilingConfig, lookupEnv func(string) (string, bool)) ProfilingConfig {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	fill := func(field *string, env string) {
		if *field == "" {
			if v, ok := lookupEnv(env); ok {
				*field = strings.TrimSpace(v)
			}
		}
	}
	fill(&cfg.ServerAddress, EnvPyroscopeServerAddress)
	fill(&cfg.BasicAuthUser, EnvPyroscopeBasicAuthUser)
	fill(&cfg.BasicAuthPassword, EnvPyroscopeBasicAuthPassword)
	fill(&cfg.TenantID, EnvPyroscopeTenantID)
	if cfg.UploadRate <= 0 {
		cfg.UploadRate = defaultUploadRate
	}
	if cfg.UploadTimeout <= 0 {
		cfg.UploadTimeout = defaultUploadTimeout
	}
	return cfg
}

// startProfiler starts profiling, or returns nil and no error when profiling is not configured.
// lookupEnv reads the PYROSCOPE_* variables (nil: os.LookupEnv).
func startProfiler(cfg ProfilingConfig, app profilingApp, lookupEnv func(string) (string, bool), logger *slog.Logger) (*profiler, error) {
	addrField := "ServerAddress"
	if cfg.ServerAddress == "" {
		addrField = EnvPyroscopeServerAddress
	}
	cfg = resolveProfiling(cfg, lookupEnv)
	if cfg.Disabled || cfg.ServerAddress == "" {
		return nil, nil
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	u, err := parseServerAddress(cfg.ServerAddress)
	if err != nil {
		return nil, fmt.Errorf("%s %w", addrField, err)
	}
	if cfg.MutexProfileFraction < 0 {
		return nil, fmt.Errorf("MutexProfileFraction %d: must not be negative", cfg.MutexProfileFraction)
	}
	if cfg.BlockProfileRate < 0 {
		return nil, fmt.Errorf("BlockProfileRate %d: must not be negative", cfg.BlockProfileRate)
	}
	names, tags, err := newProfileNames(app, cfg.Tags)
	if err != nil {
		return nil, err
	}

	log := newLimitedLogger(logger.With("component", "profiling"), logEvery)
	p := &profiler{
		cfg:      cfg,
		log:      log,
		up:       newUploader(u, cfg, log),
		names:    names,
		stop:     make(chan struct{}),
		loopDone: make(chan struct{}),
	}
	if cfg.MutexProfileFraction > 0 {
		p.prevMutexFraction = runtime.SetMutexProfileFraction(cfg.MutexProfileFraction)
	}
	if cfg.BlockProfileRate > 0 {
		runtime.SetBlockProfileRate(cfg.BlockProfileRate)
	}
	if !cfg.DisableCPU {
		// pyroscope-go's session handles the CPU profile only: with no other profile type it never
		// forces a GC nor reads MemStats, and its Stop uploads the last CPU interval through our
		// uploader. Its Profiler (pyroscope.Start) is not used: its Flush blocks forever when CPU
		// profiling is off, its Stop drops the last heap interval and does not drain the upload
		// queue, a second Stop panics, and its HTTP client keeps idle connections.
		s, err := pyroscope.NewSession(pyroscope.SessionConfig{
			Upstream:       p.up,
			Logger:         pyroscopeLogger{log},
			AppName:        names.service,
			Tags:           tags,
			ProfilingTypes: []pyroscope.ProfileType{pyroscope.ProfileCPU},
			DisableGCRuns:  true,
			UploadRate:     cfg.UploadRate,
		})
		if err != nil {
			p.restoreRates()
			return nil, fmt.Errorf("service %q: %w", names.service, err)
		}
		p.cpu = s
	}
	p.up.start()
	if p.cpu != nil {
		if err := p.cpu.Start(); err != nil {
			p.restoreRates()
			p.up.close(context.Background())
			return nil, fmt.Errorf("start CPU profiling: %w", err)
		}
	}
	p.startLoop()
	logger.Debug("profiling started", "server", u.Redacted(), "service", app.service,
		"upload_rate", cfg.UploadRate, "types", p.types())
	return p, nil
}

func parseServerAddress(addr string) (*url.URL, error) {
	u, err := url.Parse(addr)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q: want an http or https URL such as http://pyroscope:4040", addr)
	}
	return u, nil
}

func (p *profiler) types() []string {
	var t []string
	if !p.cfg.DisableCPU {
		t = append(t, "cpu")
	}
	if !p.cfg.DisableHeap {
		t = append(t, "alloc", "inuse")
	}
	if !p.cfg.DisableGoroutines {
		t = append(t, "goroutine")
	}
	if p.cfg.MutexProfileFraction > 0 {
		t = append(t, "mutex")
	}
	if p.cfg.BlockProfileRate > 0 {
		t = append(t, "block")
	}
	return t
}

func (p *profiler) restoreRates() {
	if p.cfg.MutexProfileFraction > 0 {
		runtime.SetMutexProfileFraction(p.prevMutexFraction)
	}
	if p.cfg.BlockProfileRate > 0 {
		runtime.SetBlockProfileRate(0)
	}
}

// shutdown uploads the last interval of every enabled profile type, stops every goroutine the
// profiler started and closes its connections. It returns when done or, once ctx is done, after
// cancelling what is in flight (within about a second); a profile that could not be uploaded in
// time is dropped and the error says how many. It is safe to call more than once and on a nil
// profiler; later calls return the first call's result.
func (p *profiler) shutdown(ctx context.Context) error {
	if p == nil {
		return nil
	}
	p.once.Do(func() { p.err = p.doShutdown(ctx) })
	return p.err
}

func (p *profiler) doShutdown(ctx context.Context) error {
	defer p.restoreRates()
	producersDone := make(chan struct{})
	go func() {
		defer close(producersDone)
		// The last interval of heap, goroutine, mutex and block profiles.
		close(p.stop)
		<-p.loopDone
		// The last CPU interval: the session's Stop stops the CPU profile and uploads it.
		if p.cpu != nil {
			p.cpu.Stop()
		}
	}()
	select {
	case <-producersDone:
	case <-ctx.Done():
		// Producing the last profiles is CPU work only; give it the grace period.
		select {
		case <-producersDone:
		case <-time.After(shutdownGrace):
			p.up.abort()
			return fmt.Errorf("last profiles not taken in time: %w", ctx.Err())
		}
	}
	return p.up.close(ctx)
}

// profileNames are the application names uploads carry: pyroscope's "service{tag=value,...}".
type profileNames struct {
	service     string // the application name
	sdk         string // goroutine profiles
	godeltaprof string // heap, mutex and block profiles
}

// newProfileNames validates the tags and returns the upload names and the tag map for
// pyroscope-go's session. Pyroscope allows fewer characters than Prometheus labels: other
// characters in the service name (such as the ':' of OpenTelemetry's "unknown_service:name") and
// the separators '{', '}', ',' and '=' in the version and environment become '_'. Tags, which the
// user writes for Pyroscope alone, are checked instead: a bad one is an error naming it.
func newProfileNames(app profilingApp, extra map[string]string) (profileNames, map[string]string, error) {
	service := strings.Map(func(r rune) rune {
		if isTagNameRune(r) || r == '-' || r == '/' {
			return r
		}
		return '_'
	}, app.service)
	if service == "" {
		return profileNames{}, nil, errors.New("service name is empty")
	}
	clean := func(v string) string {
		return strings.Map(func(r rune) rune {
			if strings.ContainsRune("{},=", r) {
				return '_'
			}
			return r
		}, v)
	}
	tags := map[string]string{}
	if app.version != "" {
		tags["version"] = clean(app.version)
	}
	if app.environment != "" {
		tags["environment"] = clean(app.environment)
	}
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		v := extra[k]
		if k == "" {
			return profileNames{}, nil, errors.New("Tags: a tag name is empty")
		}
		for _, r := range k {
			if !isTagNameRune(r) {
				return profileNames{}, nil, fmt.Errorf("Tags[%q]: character %q is not allowed in a tag name (want letters, digits, '_', '.')", k, r)
			}
		}
		if strings.ContainsAny(v, "{},=") {
			return profileNames{}, nil, fmt.Errorf("Tags[%q] = %q: the value may not hold '{', '}', ',' or '='", k, v)
		}
		tags[k] = v
	}
	base := maps.Clone(tags)
	base["process.runtime.name"] = "go"
	base["process.runtime.version"] = runtime.Version()
	name := func(scope string) string {
		m := maps.Clone(base)
		m["otel.scope.name"] = scope
		keys := slices.Sorted(maps.Keys(m))
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + "=" + m[k]
		}
		return service + "{" + strings.Join(parts, ",") + "}"
	}
	return profileNames{
		service:     service,
		sdk:         name("com.grafana.pyroscope/go"),
		godeltaprof: name("com.grafana.pyroscope/godeltaprof"),
	}, tags, nil
}

func isTagNameRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.'
}

// The snapshot loop: heap, goroutine, mutex and block profiles every UploadRate, and once more
// when stopped.

func (p *profiler) startLoop() {
	if !p.cfg.DisableHeap {
		p.heap = godeltaprof.NewHeapProfiler()
	}
	if p.cfg.MutexProfileFraction > 0 {
		p.mutex = godeltaprof.NewMutexProfiler()
	}
	if p.cfg.BlockProfileRate > 0 {
		p.block = godeltaprof.NewBlockProfiler()
	}
	// The delta profilers report what happened since their previous call: a first call here makes
	// the first upload cover the first interval, not the life of the process.
	var discard bytes.Buffer
	if p.heap != nil {
		_ = p.heap.Profile(&discard)
		p.lastGC = gcCycles()
	}
	if p.mutex != nil {
		_ = p.mutex.Profile(&discard)
	}
	if p.block != nil {
		_ = p.block.Profile(&discard)
	}
	go p.loop(time.Now())
}

func (p *profiler) loop(start time.Time) {
	defer close(p.loopDone)
	t := time.NewTicker(p.cfg.UploadRate)
	defer t.Stop()
	for {
		select {
		case now := <-t.C:
			p.snapshot(start, now, false)
			start = now
		case <-p.stop:
			p.snapshot(start, time.Now(), true)
			return
		}
	}
}

func (p *profiler) snapshot(start, end time.Time, last bool) {
	if !p.cfg.DisableGoroutines {
		if g := pprof.Lookup("goroutine"); g != nil {
			p.buf.Reset()
			if err := g.WriteTo(&p.buf, 0); err != nil {
				p.log.error("goroutine profile", err)
			} else {
				p.up.Upload(&upstream.UploadJob{
					Name: p.names.sdk, StartTime: start, EndTime: end, SpyName: "gospy",
					Units: "goroutines", AggregationType: "average", Format: upstream.FormatPprof,
					Profile: bytes.Clone(p.buf.Bytes()),
					SampleTypeConfig: map[string]*upstream.SampleType{
						"goroutine": {DisplayName: "goroutine", Units: "goroutines", Aggregation: "average"},
					},
				})
			}
		}
	}
	if p.heap != nil {
		n := gcCycles()
		if n == p.lastGC && (p.cfg.ForceGC || last) {
			runtime.GC()
			n = gcCycles()
		}
		// The heap profile changes only when a GC completes.
		if n != p.lastGC {
			p.lastGC = n
			p.deltaUpload("heap", p.heap, start, end, heapSampleTypes())
		}
	}
	if p.mutex != nil {
		p.deltaUpload("mutex", p.mutex, start, end, contentionSampleTypes("mutex"))
	}
	if p.block != nil {
		p.deltaUpload("block", p.block, start, end, contentionSampleTypes("block"))
	}
}

func (p *profiler) deltaUpload(what string, prof deltaProfiler, start, end time.Time, types map[string]*upstream.SampleType) {
	p.buf.Reset()
	if err := prof.Profile(&p.buf); err != nil {
		p.log.error(what+" profile", err)
		return
	}
	p.up.Upload(&upstream.UploadJob{
		Name: p.names.godeltaprof, StartTime: start, EndTime: end, SpyName: "gospy",
		SampleRate: 100, Format: upstream.FormatPprof, Profile: bytes.Clone(p.buf.Bytes()),
		SampleTypeConfig: types,
	})
}

// deltaProfiler is godeltaprof's heap, mutex or block profiler.
type deltaProfiler interface{ Profile(w io.Writer) error }

// gcCycles reads the number of completed GC cycles from runtime/metrics (no stop-the-world).
func gcCycles() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// The sample type descriptions pyroscope-go sends with godeltaprof profiles.
func heapSampleTypes() map[string]*upstream.SampleType {
	return map[string]*upstream.SampleType{
		"alloc_objects": {Units: "objects"},
		"alloc_space":   {Units: "bytes"},
		"inuse_space":   {Units: "bytes", Aggregation: "average"},
		"inuse_objects": {Units: "objects", Aggregation: "average"},
	}
}

func contentionSampleTypes(kind string) map[string]*upstream.SampleType {
	return map[string]*upstream.SampleType{
		"contentions": {DisplayName: kind + "_count", Units: "lock_samples"},
		"delay":       {DisplayName: kind + "_duration", Units: "lock_nanoseconds"},
	}
}

// uploader implements pyroscope-go's upstream.Upstream: it posts profiles to Pyroscope's /ingest
// endpoint from a bounded queue, with its own HTTP client, and drains, cancels and closes its
// connections on close.
type uploader struct {
	base      *url.URL
	cfg       ProfilingConfig
	log       *limitedLogger
	transport *http.Transport
	client    *http.Client

	ctx    context.Context // cancelled by abort: stops in-flight and queued uploads
	cancel context.CancelFunc

	mu     sync.Mutex // guards closed and sending on jobs
	closed bool
	jobs   chan *upstream.UploadJob
	wg     sync.WaitGroup

	// dropped counts the profiles not uploaded, by reason (catalog.ProfilingDropped); the Observer
	// registers it. queueFull, uploadError and shutdown are its children.
	dropped                          *prometheus.CounterVec
	queueFull, uploadError, shutdown prometheus.Counter
}

func newUploader(base *url.URL, cfg ProfilingConfig, log *limitedLogger) *uploader {
	dialer := &net.Dialer{Timeout: cfg.UploadTimeout, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   cfg.UploadTimeout,
		ResponseHeaderTimeout: cfg.UploadTimeout,
		MaxIdleConnsPerHost:   uploadWorkers,
		MaxConnsPerHost:       uploadWorkers,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	ctx, cancel := context.WithCancel(context.Background())
	dropped := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: catalog.ProfilingDropped,
		Help: helpOf(catalog.ProfilingDropped),
	}, []string{catalog.LabelReason})
	return &uploader{
		base:      base,
		cfg:       cfg,
		log:       log,
		transport: tr,
		client: &http.Client{
			Transport: tr,
			Timeout:   cfg.UploadTimeout,
			// Redirects would drop the Authorization header; Pyroscope does not redirect.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		ctx:    ctx,
		cancel: cancel,
		jobs:   make(chan *upstream.UploadJob, uploadQueueLength),

		dropped:     dropped,
		queueFull:   dropped.WithLabelValues(catalog.ReasonQueueFull),
		uploadError: dropped.WithLabelValues(catalog.ReasonUploadError),
		shutdown:    dropped.WithLabelValues(catalog.ReasonShutdown),
	}
}

func (u *uploader) start() {
	u.wg.Add(uploadWorkers)
	for range uploadWorkers {
		go u.work()
	}
}

// Upload queues a profile, or drops it (counted) when the queue is full or the uploader closed.
// It never blocks.
func (u *uploader) Upload(j *upstream.UploadJob) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed {
		u.shutdown.Inc()
		return
	}
	select {
	case u.jobs <- j:
	default:
		u.queueFull.Inc()
		u.log.error("upload queue full, profile dropped", errors.New("pyroscope server too slow or unreachable"))
	}
}

// Flush is part of upstream.Upstream; pyroscope-go calls it only from Profiler.Flush, which perfobs
// does not use. close drains the queue instead.
func (u *uploader) Flush() {}

func (u *uploader) work() {
	defer u.wg.Done()
	for j := range u.jobs {
		if u.ctx.Err() != nil {
			u.shutdown.Inc() // aborted: drop what is left
			continue
		}
		if err := u.post(j); err != nil {
			if u.ctx.Err() != nil {
				u.shutdown.Inc() // cancelled in flight by close or abort
				continue
			}
			u.uploadError.Inc()
			u.log.error("upload", err)
		}
	}
}

// close stops accepting profiles, waits for the queue to drain until ctx is done, then cancels
// what is left, and closes idle connections.
func (u *uploader) close(ctx context.Context) error {
	u.mu.Lock()
	if !u.closed {
		u.closed = true
		close(u.jobs)
	}
	u.mu.Unlock()
	done := make(chan struct{})
	go func() { u.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		left := len(u.jobs)
		u.cancel()
		select {
		case <-done:
		case <-time.After(shutdownGrace):
		}
		err = fmt.Errorf("%d queued profiles not uploaded: %w", left, ctx.Err())
	}
	u.cancel()
	u.transport.CloseIdleConnections()
	return err
}

// abort cancels in-flight and queued uploads and closes the queue.
func (u *uploader) abort() {
	u.cancel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = u.close(ctx)
}

// post sends one profile the way pyroscope-go's remote uploader does: a multipart form with the
// gzipped pprof profile and its sample type description, and the metadata in the query.
func (u *uploader) post(j *upstream.UploadJob) error {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("profile", "profile.pprof")
	if err != nil {
		return err
	}
	if _, err := fw.Write(j.Profile); err != nil {
		return err
	}
	if j.SampleTypeConfig != nil {
		b, err := json.Marshal(j.SampleTypeConfig)
		if err != nil {
			return err
		}
		fw, err := mw.CreateFormFile("sample_type_config", "sample_type_config.json")
		if err != nil {
			return err
		}
		if _, err := fw.Write(b); err != nil {
			return err
		}
	}
	if err := mw.Close(); err != nil {
		return err
	}

	target := *u.base
	target.Path = path.Join(target.Path, "ingest")
	q := url.Values{}
	q.Set("name", j.Name)
	q.Set("from", strconv.FormatInt(j.StartTime.UnixNano(), 10))
	q.Set("until", strconv.FormatInt(j.EndTime.UnixNano(), 10))
	q.Set("spyName", j.SpyName)
	q.Set("sampleRate", strconv.FormatUint(uint64(j.SampleRate), 10))
	q.Set("units", j.Units)
	q.Set("aggregationType", j.AggregationType)
	target.RawQuery = q.Encode()

	req, err := http.NewRequestWithContext(u.ctx, http.MethodPost, target.String(), &body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if u.cfg.BasicAuthUser != "" && u.cfg.BasicAuthPassword != "" {
		req.SetBasicAuth(u.cfg.BasicAuthUser, u.cfg.BasicAuthPassword)
	}
	if u.cfg.TenantID != "" {
		req.Header.Set("X-Scope-OrgID", u.cfg.TenantID)
	}
	resp, err := u.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	// Read a bounded part of the body so the connection can be reused.
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: status %d: %s", target.Redacted(), resp.StatusCode, strings.TrimSpace(string(msg)))
	}
	return nil
}

// limitedLogger logs errors at most once per interval, with the number of errors left unlogged
// since the previous line.
type limitedLogger struct {
	logger     *slog.Logger
	interval   time.Duration
	mu         sync.Mutex
	last       time.Time
	suppressed int
}

func newLimitedLogger(l *slog.Logger, interval time.Duration) *limitedLogger {
	return &limitedLogger{logger: l, interval: interval}
}

func (l *limitedLogger) error(msg string, err error) {
	l.mu.Lock()
	now := time.Now()
	if !l.last.IsZero() && now.Sub(l.last) < l.interval {
		l.suppressed++
		l.mu.Unlock()
		return
	}
	suppressed := l.suppressed
	l.last, l.suppressed = now, 0
	l.mu.Unlock()
	l.logger.Warn("profiling: "+msg, "error", err, "suppressed_since_last", suppressed)
}

// pyroscopeLogger adapts limitedLogger to pyroscope-go's Logger: its errors are rate-limited
// warnings; its informational and debug lines are dropped.
type pyroscopeLogger struct{ l *limitedLogger }

func (pyroscopeLogger) Infof(string, ...any)  {}
func (pyroscopeLogger) Debugf(string, ...any) {}
func (p pyroscopeLogger) Errorf(format string, args ...any) {
	p.l.error("pyroscope-go", fmt.Errorf(format, args...))
}
