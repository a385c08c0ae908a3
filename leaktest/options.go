package leaktest

import (
	"net/http"
	"time"

	"go.uber.org/goleak"
)

// Option configures VerifyTestMain, Check and Find. Only this package makes options: use the functions below,
// or Goleak to pass options of go.uber.org/goleak through.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// optionSet is several options that travel as one.
type optionSet []Option

func (s optionSet) apply(c *config) {
	for _, o := range s {
		o.apply(c)
	}
}

// IdleCloser is what CloseIdleConnections accepts: *http.Transport, *http.Client, and the HTTP/2 transports
// all have this method.
type IdleCloser interface {
	CloseIdleConnections()
}

// DefaultTimeout is how long a check keeps looking (closing idle connections and retrying) before it reports the
// goroutines still there.
const DefaultTimeout = 2 * time.Second

// config is the state options build. newConfig holds the defaults.
type config struct {
	ignoreTop  []string
	ignoreAny  []string
	goleakOpts []goleak.Option
	closers    []IdleCloser
	timeout    time.Duration
}

func newConfig(opts []Option) *config {
	c := &config{
		closers: []IdleCloser{defaultTransport{}},
		timeout: DefaultTimeout,
	}
	defaults().apply(c)
	for _, o := range opts {
		if o != nil {
			o.apply(c)
		}
	}
	return c
}

// The goroutines every check ignores, by the function on top of their stack. Each lives as long as the process,
// is started by a package's init function as a side effect of importing it, and cannot be stopped without
// breaking that package for the tests that run after it: no test can be blamed for one, nor fix it.
const (
	// OpenCensusWorker is the default stats worker of go.opencensus.io/stats/view, started in init. view.Stop
	// exists, but a stopped default worker is never restarted, so every later test (and gRPC's opencensus
	// plugin) would silently lose its stats.
	OpenCensusWorker = "go.opencensus.io/stats/view.(*worker).start"
	// GlogFlushDaemon is github.com/golang/glog's flush daemon (v1.1 and later), started in init. It flushes
	// the log files every 30 s until the process exits; glog has no function to stop it.
	GlogFlushDaemon = "github.com/golang/glog.(*fileSink).flushDaemon"
	// GlogFlushDaemonV1 is the same daemon in glog before v1.1, under its former receiver.
	GlogFlushDaemonV1 = "github.com/golang/glog.(*loggingT).flushDaemon"
)

// defaults is the ignore list every check starts with.
func defaults() Option {
	return optionSet{
		IgnoreTopFunction(OpenCensusWorker),
		IgnoreTopFunction(GlogFlushDaemon),
		IgnoreTopFunction(GlogFlushDaemonV1),
	}
}

// defaultTransport closes the idle connections of http.DefaultTransport, which http.Get, http.DefaultClient and
// any client without its own Transport use. Read at check time, so a test that swaps the default is honoured.
type defaultTransport struct{}

func (defaultTransport) CloseIdleConnections() {
	if t, ok := http.DefaultTransport.(IdleCloser); ok {
		t.CloseIdleConnections()
	}
}

// IgnoreTopFunction ignores goroutines whose stack has fn on top: a fully qualified name, such as
// "go.opencensus.io/stats/view.(*worker).start" (the name goleak and a stack dump print).
func IgnoreTopFunction(fn string) Option {
	return optionFunc(func(c *config) { c.ignoreTop = append(c.ignoreTop, fn) })
}

// IgnoreAnyFunction ignores goroutines that have fn anywhere on their stack. Prefer IgnoreTopFunction: a
// function low on many stacks can hide real leaks.
func IgnoreAnyFunction(fn string) Option {
	return optionFunc(func(c *config) { c.ignoreAny = append(c.ignoreAny, fn) })
}

// IgnoreCurrent ignores the goroutines that exist when it is called, wherever the option is used later.
// Check already does this for the goroutines present at its start.
func IgnoreCurrent() Option {
	o := goleak.IgnoreCurrent()
	return optionFunc(func(c *config) { c.goleakOpts = append(c.goleakOpts, o) })
}

// Goleak passes options of go.uber.org/goleak (goleak.IgnoreTopFunction and the like) through. goleak.Cleanup
// is refused by the check that receives it, with goleak's own error.
func Goleak(opts ...goleak.Option) Option {
	return optionFunc(func(c *config) { c.goleakOpts = append(c.goleakOpts, opts...) })
}

// CloseIdleConnections registers transports or clients whose idle keep-alive connections the check closes
// while it looks. http.DefaultTransport is always closed. An idle connection's goroutines
// (net/http.(*persistConn).readLoop and writeLoop) are never ignored: a connection whose response body was not
// closed is not idle, stays open, and is reported.
func CloseIdleConnections(cs ...IdleCloser) Option {
	return optionFunc(func(c *config) {
		for _, cl := range cs {
			if cl != nil {
				c.closers = append(c.closers, cl)
			}
		}
	})
}

// WithTimeout sets how long a check keeps closing idle connections and looking again before it reports what is
// left; zero or less keeps DefaultTimeout. A passing check returns as soon as nothing is left, so only failing
// checks wait this long.
func WithTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d > 0 {
			c.timeout = d
		}
	})
}

// OpenTelemetrySDK ignores the goroutines an OpenTelemetry SDK provider runs for as long as it lives, for test
// suites that keep one provider alive across tests on purpose (go.opentelemetry.io/otel/sdk v1.47.0):
//   - the batch span processor's queue loop, (*batchSpanProcessor).processQueue, started by
//     trace.NewBatchSpanProcessor and trace.WithBatcher and ended by TracerProvider.Shutdown;
//   - the periodic metric reader's collect loop, (*PeriodicReader).run in go.opentelemetry.io/otel/sdk/metric,
//     started by metric.NewPeriodicReader and ended by MeterProvider.Shutdown.
//
// Both loops call the exporter themselves, so while they export another function is on top of their stack: the
// option matches the loop anywhere on the stack (only these goroutines run it). Use it only while the provider is
// never shut down; a TestMain that shuts it down after m.Run needs no option. The exporter's HTTP connections
// are not ignored: give the exporter an HTTP client and register it with CloseIdleConnections.
func OpenTelemetrySDK() Option {
	return optionSet{
		IgnoreAnyFunction("go.opentelemetry.io/otel/sdk/trace.(*batchSpanProcessor).processQueue"),
		IgnoreAnyFunction("go.opentelemetry.io/otel/sdk/metric.(*PeriodicReader).run"),
	}
}

// Pyroscope ignores the goroutines of a running github.com/grafana/pyroscope-go (v1.5.0) profiler, for test
// suites that start one profiler for the whole binary on purpose:
//   - the session loop that takes a snapshot at every upload tick, (*Session).takeSnapshots;
//   - the CPU profile collector, (*cpuProfileCollector).Start, and the runtime's CPU profile reader it keeps
//     running, runtime/pprof.profileWriter (so this option also hides a CPU profile a test forgot to stop);
//   - the upload workers, (*Remote).handleJobs, one per upload thread.
//
// These loops do their work themselves (a snapshot, an upload), so the option matches them anywhere on the stack.
// All of them end in Profiler.Stop. The upload connections are not ignored: set pyroscope.Config.HTTPClient to a
// client you also pass to CloseIdleConnections, or they stay open between uploads and are reported.
func Pyroscope() Option {
	return optionSet{
		IgnoreAnyFunction("github.com/grafana/pyroscope-go.(*Session).takeSnapshots"),
		IgnoreAnyFunction("github.com/grafana/pyroscope-go.(*cpuProfileCollector).Start"),
		IgnoreAnyFunction("runtime/pprof.profileWriter"),
		IgnoreAnyFunction("github.com/grafana/pyroscope-go/upstream/remote.(*Remote).handleJobs"),
	}
}
