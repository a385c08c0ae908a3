package instrument_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/internal/instrument"
	"github.com/perfobs/perfobs-go/leaktest"
)

func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }

// TestLabelCapUnderConcurrency admits values from many goroutines: exactly Max distinct values
// survive, every other call collapses, and the counter equals the collapsed calls.
func TestLabelCapUnderConcurrency(t *testing.T) {
	reg := prometheus.NewRegistry()
	overflow, err := instrument.NewOverflowCounter(reg)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	c := &instrument.LabelCap{Metric: "m", Label: "l", Max: 50, Overflow: overflow,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		admitted  = map[string]bool{}
		collapsed int
	)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				v := c.Admit("v" + strconv.Itoa(g*100+i))
				mu.Lock()
				if v == catalog.OtherValue {
					collapsed++
				} else {
					admitted[v] = true
				}
				mu.Unlock()
			}
		}(g)
	}
	wg.Wait()
	if len(admitted) != 50 || collapsed != 1600-50 {
		t.Fatalf("admitted %d distinct values and collapsed %d calls, want 50 and 1550", len(admitted), collapsed)
	}
	for v := range admitted { // known values stay admitted after the cap is reached
		if got := c.Admit(v); got != v {
			t.Fatalf("known value %q now collapses to %q", v, got)
		}
	}
	if got := testutil.ToFloat64(overflow.WithLabelValues("m", "l")); got != 1550 {
		t.Fatalf("overflow counter %v, want 1550", got)
	}
	if n := strings.Count(logs.String(), "label cap reached"); n != 1 {
		t.Fatalf("%d log lines, want 1 (rate-limited)", n)
	}
}

func TestRegisterOrReuse(t *testing.T) {
	reg := prometheus.NewRegistry()
	a := prometheus.NewCounter(prometheus.CounterOpts{Name: "x_total", Help: "x"})
	b := prometheus.NewCounter(prometheus.CounterOpts{Name: "x_total", Help: "x"})
	got, err := instrument.RegisterOrReuse(reg, a)
	if err != nil || got != a {
		t.Fatalf("first registration: %v", err)
	}
	got, err = instrument.RegisterOrReuse(reg, b)
	if err != nil || got != a {
		t.Fatalf("second registration must return the first collector, got err %v", err)
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "x_total", Help: "x"})
	if _, err := instrument.RegisterOrReuse(reg, g); err == nil {
		t.Fatal("a collector of another type under the same name must be an error")
	}
}

func TestNewConfigDefaults(t *testing.T) {
	cfg, err := instrument.NewConfig[instrument.Option]("test", instrument.All, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Registerer != prometheus.DefaultRegisterer || cfg.LabelCap != instrument.DefaultLabelCap || cfg.Logger == nil ||
		len(cfg.DurationBuckets) != len(catalog.DefaultDurationBuckets()) {
		t.Fatalf("defaults: %+v", cfg)
	}
	opts := []instrument.Option{
		instrument.NewOption("WithLabelCap", instrument.All, func(c *instrument.Config) { c.LabelCap = 0 }),
		instrument.NewOption("WithDurationBuckets", instrument.All, func(c *instrument.Config) { c.DurationBuckets = []float64{3, 2} }),
		instrument.NewOption("WithServeMux", instrument.HTTPServer, func(*instrument.Config) {}),
		instrument.Invalid("WithSkip", instrument.HTTPServer, errors.New("function is nil")),
	}
	_, err = instrument.NewConfig("grpcmw.New", instrument.GRPC, opts)
	for _, want := range []string{"WithLabelCap: cap 0", "WithDurationBuckets: bound 2", "WithServeMux applies to the HTTP middleware (middleware.HTTP), not to grpcmw.New",
		"WithSkip applies to the HTTP middleware"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("error %v, want it to contain %q", err, want)
		}
	}
	// An option that applies only to HTTP servers is accepted by middleware.New, whose Recorder
	// serves both sides; made lenient (the facade's), it is ignored by gRPC, but an invalid
	// argument is still an error.
	if _, err := instrument.NewConfig("middleware.New", instrument.HTTP, opts[2:3]); err != nil {
		t.Fatal(err)
	}
	if _, err := instrument.NewConfig("grpcmw.New", instrument.GRPC, instrument.Lenient(opts[2:3])); err != nil {
		t.Fatalf("a lenient HTTP option must be ignored by gRPC: %v", err)
	}
	if _, err := instrument.NewConfig("grpcmw.New", instrument.GRPC, instrument.Lenient(opts[3:])); err == nil || !strings.Contains(err.Error(), "WithSkip: function is nil") {
		t.Fatalf("a lenient invalid option must still be an error, got %v", err)
	}
}

// TestLabelCapFullCollapsesAndLogsOnce: past the cap every new value collapses (counted), known
// values stay, and a flood of new values writes one log line, not one per value.
func TestLabelCapFullCollapsesAndLogsOnce(t *testing.T) {
	reg := prometheus.NewRegistry()
	overflow, err := instrument.NewOverflowCounter(reg)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	c := &instrument.LabelCap{Metric: "m", Label: "l", Max: 2, Overflow: overflow,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	for _, v := range []string{"a", "b"} {
		if got := c.Admit(v); got != v {
			t.Fatalf("Admit(%q) = %q under the cap", v, got)
		}
	}
	for i := range 1000 {
		if got := c.Admit("new" + strconv.Itoa(i)); got != catalog.OtherValue {
			t.Fatalf("Admit of a new value past the cap = %q, want %s", got, catalog.OtherValue)
		}
	}
	if got := c.Admit("a"); got != "a" {
		t.Errorf("a known value past the cap became %q", got)
	}
	if got := testutil.ToFloat64(overflow.WithLabelValues("m", "l")); got != 1000 {
		t.Errorf("overflow counter = %v, want 1000", got)
	}
	if n := strings.Count(logs.String(), "label cap reached"); n != 1 {
		t.Errorf("%d log lines for 1000 collapsed values, want 1:\n%s", n, logs.String())
	}
}
