package profiling

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	pyroscope "github.com/grafana/pyroscope-go"
	"github.com/prometheus/client_golang/prometheus"
)

// Profiler is one running profiling session.
type Profiler struct {
	cfg      Config
	log      *logger
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

// Start starts profiling, or returns nil and no error when profiling is not configured.
// lookupEnv reads the PYROSCOPE_* variables (nil: os.LookupEnv); a nil log discards. Errors name
// the Config field or the variable that holds the bad value.
func Start(cfg Config, app App, lookupEnv func(string) (string, bool), log *slog.Logger) (*Profiler, error) {
	addrField := "ServerAddress"
	if cfg.ServerAddress == "" {
		addrField = EnvServerAddress
	}
	cfg = Resolve(cfg, lookupEnv)
	if cfg.Disabled || cfg.ServerAddress == "" {
		return nil, nil
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
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

	l := newLogger(log.With("component", "profiling"))
	p := &Profiler{
		cfg:      cfg,
		log:      l,
		up:       newUploader(u, cfg, l),
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
			Logger:         pyroscopeLogger{l},
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
	log.Debug("profiling started", "server", u.Redacted(), "service", app.Service,
		"upload_rate", cfg.UploadRate, "types", p.Types())
	return p, nil
}

// CPU reports whether CPU profiling runs (spans then label their samples).
func (p *Profiler) CPU() bool { return p != nil && p.cpu != nil }

// Dropped is perfobs_profiling_dropped_total: the profiles not uploaded, by reason. The Observer
// registers it.
func (p *Profiler) Dropped() prometheus.Collector { return p.up.dropped }

// Types names the profile types uploaded.
func (p *Profiler) Types() []string {
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

func (p *Profiler) restoreRates() {
	if p.cfg.MutexProfileFraction > 0 {
		runtime.SetMutexProfileFraction(p.prevMutexFraction)
	}
	if p.cfg.BlockProfileRate > 0 {
		runtime.SetBlockProfileRate(0)
	}
}

// Shutdown uploads the last interval of every enabled profile type, stops every goroutine the
// profiler started and closes its connections. It returns when done or, once ctx is done, after
// cancelling what is in flight (within about a second); a profile that could not be uploaded in
// time is dropped and the error says how many. It is safe to call more than once and on a nil
// Profiler; later calls return the first call's result.
func (p *Profiler) Shutdown(ctx context.Context) error {
	if p == nil {
		return nil
	}
	p.once.Do(func() { p.err = p.doShutdown(ctx) })
	return p.err
}

func (p *Profiler) doShutdown(ctx context.Context) error {
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
