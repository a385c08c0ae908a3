package perfobs

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/perfobs/perfobs-go/catalog"
)

// panicking is a collector whose Collect sends one metric and then panics.
type panicking struct{ desc *prometheus.Desc }

func newPanicking() *panicking {
	return &panicking{desc: prometheus.NewDesc("broken_metric", "Panics.", nil, nil)}
}

func (p *panicking) Describe(ch chan<- *prometheus.Desc) { ch <- p.desc }
func (p *panicking) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(p.desc, prometheus.GaugeValue, 1)
	panic("collector bug")
}

// describePanicking panics in Describe.
type describePanicking struct{}

func (describePanicking) Describe(chan<- *prometheus.Desc) { panic("describe bug") }
func (describePanicking) Collect(chan<- prometheus.Metric) {}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRegistererSurvivesAPanickingCollector(t *testing.T) {
	var logs syncBuffer
	obs, err := Start(context.Background(), Config{Service: "s", LookupEnv: env(nil), DisableRuntimeMetrics: true,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer obs.Shutdown(context.Background())
	healthy := prometheus.NewCounter(prometheus.CounterOpts{Name: "orders_placed_total", Help: "Orders."})
	healthy.Add(7)
	obs.Registerer().MustRegister(healthy, newPanicking())

	const scrapes = 5
	for i := range scrapes {
		body := scrape(t, obs.MetricsHandler(), "")
		if !strings.Contains(body, "orders_placed_total 7") {
			t.Fatalf("scrape %d: healthy metric missing:\n%s", i, body)
		}
		if strings.Contains(body, "broken_metric") {
			t.Fatalf("scrape %d: the panicking collector's partial metrics were served:\n%s", i, body)
		}
	}
	if got := testutil.ToFloat64(obs.Registerer().(*safeRegisterer).panics); got != scrapes {
		t.Errorf("%s = %v, want %d", catalog.CollectorPanics, got, scrapes)
	}
	// Collectors run concurrently within a scrape, so the counter may be read before or after
	// this scrape's panic: it is served as 5 or 6.
	body := scrape(t, obs.MetricsHandler(), "")
	if !strings.Contains(body, catalog.CollectorPanics+" 5\n") && !strings.Contains(body, catalog.CollectorPanics+" 6\n") {
		t.Errorf("%s not served as 5 or 6:\n%s", catalog.CollectorPanics, body)
	}
	if n := strings.Count(logs.String(), "panicked"); n != 1 {
		t.Errorf("logged %d panic lines in one minute, want 1:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "collector bug") || !strings.Contains(logs.String(), "*perfobs.panicking") {
		t.Errorf("log line does not name the panic and the collector:\n%s", logs.String())
	}
}

func TestRegistererRefusesAPanickingDescribe(t *testing.T) {
	obs, err := Start(context.Background(), Config{Service: "s", LookupEnv: env(nil), DisableRuntimeMetrics: true,
		Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer obs.Shutdown(context.Background())
	err = obs.Registerer().Register(describePanicking{})
	if err == nil || !strings.Contains(err.Error(), "describe bug") {
		t.Fatalf("Register = %v, want an error naming the panic", err)
	}
	if obs.Registerer().Unregister(describePanicking{}) {
		t.Error("Unregister of a collector never registered returned true")
	}
	if problems, err := testutil.GatherAndLint(obs.Gatherer()); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", problems, err)
	}
}

func TestRegistererKeepsClientGolangSemantics(t *testing.T) {
	obs, err := Start(context.Background(), Config{Service: "s", LookupEnv: env(nil), DisableRuntimeMetrics: true,
		Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer obs.Shutdown(context.Background())
	first := prometheus.NewCounter(prometheus.CounterOpts{Name: "jobs_total", Help: "Jobs."})
	obs.Registerer().MustRegister(first)

	tests := []struct {
		name string
		run  func(t *testing.T, r prometheus.Registerer)
	}{
		{"AlreadyRegisteredError names the caller's collectors", func(t *testing.T, r prometheus.Registerer) {
			second := prometheus.NewCounter(prometheus.CounterOpts{Name: "jobs_total", Help: "Jobs."})
			err := r.Register(second)
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				t.Fatalf("Register twice = %v, want AlreadyRegisteredError", err)
			}
			if are.ExistingCollector != first || are.NewCollector != second {
				t.Errorf("AlreadyRegisteredError holds %T and %T, want the caller's counters", are.ExistingCollector, are.NewCollector)
			}
		}},
		{"MustRegister panics on a clash", func(t *testing.T, r prometheus.Registerer) {
			defer func() {
				if recover() == nil {
					t.Error("MustRegister of a duplicate did not panic")
				}
			}()
			r.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "jobs_total", Help: "Jobs."}))
		}},
		{"nil collector is an error", func(t *testing.T, r prometheus.Registerer) {
			if err := r.Register(nil); err == nil {
				t.Error("Register(nil) = nil")
			}
		}},
		{"Unregister finds the wrapped collector", func(t *testing.T, r prometheus.Registerer) {
			c := prometheus.NewGauge(prometheus.GaugeOpts{Name: "queue_depth", Help: "Depth."})
			r.MustRegister(c)
			if !r.Unregister(c) {
				t.Fatal("Unregister = false")
			}
			if r.Unregister(c) {
				t.Fatal("second Unregister = true")
			}
			if err := r.Register(c); err != nil {
				t.Fatalf("register again after Unregister: %v", err)
			}
		}},
		{"one panic counter per registry", func(t *testing.T, r prometheus.Registerer) {
			a, b := r.(*safeRegisterer), obs.Registerer().(*safeRegisterer)
			if a.panics != b.panics {
				t.Error("two Registerer calls count panics in two counters")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, obs.Registerer()) })
	}
	if problems, err := testutil.GatherAndLint(obs.Gatherer()); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", problems, err)
	}
}
