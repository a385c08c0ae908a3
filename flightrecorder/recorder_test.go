package flightrecorder_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/trace"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/flightrecorder"
)

// start makes a Recorder that the test stops when it ends. Tests do not run in parallel: the
// runtime allows one flight recorder per process.
func start(t *testing.T, cfg flightrecorder.Config) (*flightrecorder.Recorder, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg.Registerer = reg
	r, err := flightrecorder.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return r, reg
}

// waitSnapshots waits until r keeps n snapshots, or the writer goroutine is idle with fewer.
func waitSnapshots(t *testing.T, r *flightrecorder.Recorder, reg *prometheus.Registry, written int) []flightrecorder.Snapshot {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if int(counted(t, reg, "")) >= written {
			return r.Snapshots()
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("fewer than %d snapshots written within 10 s (taken+cap+error = %v)", written, counted(t, reg, ""))
	return nil
}

// counted returns the skipped counter of reason, or, for "", the snapshots written
// (taken + cap + error).
func counted(t *testing.T, reg *prometheus.Registry, reason string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			r := ""
			for _, l := range m.GetLabel() {
				if l.GetName() == catalog.LabelReason {
					r = l.GetValue()
				}
			}
			switch {
			case mf.GetName() == catalog.FlightRecorderSnapshots && reason == "":
				sum += m.GetCounter().GetValue()
			case mf.GetName() == catalog.FlightRecorderSkipped && reason == "" && (r == flightrecorder.SkipCap || r == flightrecorder.SkipError):
				sum += m.GetCounter().GetValue()
			case mf.GetName() == catalog.FlightRecorderSkipped && r == reason:
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

func TestNewValidates(t *testing.T) {
	for name, tc := range map[string]struct {
		cfg  flightrecorder.Config
		want string
	}{
		"no budget":      {flightrecorder.Config{}, "no budget set"},
		"negative":       {flightrecorder.Config{Budget: -time.Second}, "Budget -1s must not be negative"},
		"route budget":   {flightrecorder.Config{Budgets: map[string]time.Duration{"/a": 0}}, `Budgets["/a"]: budget 0s must be positive`},
		"window":         {flightrecorder.Config{Budget: time.Second, Window: -1}, "Window"},
		"keep":           {flightrecorder.Config{Budget: time.Second, Keep: -1}, "Keep -1"},
		"memory cap":     {flightrecorder.Config{Budget: time.Second, MaxMemoryBytes: -1}, "MaxMemoryBytes"},
		"disk cap":       {flightrecorder.Config{Budget: time.Second, MaxDiskBytes: -1}, "MaxDiskBytes"},
		"missing dir":    {flightrecorder.Config{Budget: time.Second, Dir: filepath.Join(t.TempDir(), "absent")}, "Dir:"},
		"registry clash": {flightrecorder.Config{Budget: time.Second, Registerer: clashing(t)}, catalog.FlightRecorderSnapshots},
	} {
		t.Run(name, func(t *testing.T) {
			r, err := flightrecorder.New(tc.cfg)
			if err == nil {
				r.Stop(context.Background())
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
		})
	}
}

// clashing is a registry that already has a gauge under the snapshot counter's name.
func clashing(t *testing.T) prometheus.Registerer {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGauge(prometheus.GaugeOpts{Name: catalog.FlightRecorderSnapshots, Help: "x"}))
	return reg
}

func TestBudgetsAndWindow(t *testing.T) {
	r, _ := start(t, flightrecorder.Config{Budget: 50 * time.Millisecond,
		Budgets: map[string]time.Duration{"/export": 2 * time.Second, "shop.Cart/Add": 10 * time.Millisecond}})
	for route, want := range map[string]time.Duration{"/": 50 * time.Millisecond, "/export": 2 * time.Second,
		"shop.Cart/Add": 10 * time.Millisecond} {
		if got := r.Budget(route); got != want {
			t.Errorf("Budget(%q) = %v, want %v", route, got, want)
		}
	}
	if got := r.Window(); got != 4*time.Second {
		t.Errorf("window %v, want twice the largest budget, 4s", got)
	}
	if id := r.Observe("/export", "", time.Second); id != "" {
		t.Errorf("a request within its budget took snapshot %q", id)
	}
}

func TestWindowFloor(t *testing.T) {
	r, _ := start(t, flightrecorder.Config{Budget: 10 * time.Millisecond})
	if got := r.Window(); got != flightrecorder.MinWindow {
		t.Errorf("window %v, want the floor %v", got, flightrecorder.MinWindow)
	}
}

func TestSnapshotOfASlowRequest(t *testing.T) {
	r, reg := start(t, flightrecorder.Config{Budget: 10 * time.Millisecond})
	ctx, task := flightrecorder.StartTask(context.Background(), "/slow", "0123456789abcdef0123456789abcdef")
	time.Sleep(20 * time.Millisecond)
	trace.Log(ctx, "step", "done")
	task.End()
	id := r.Observe("/slow", "0123456789abcdef0123456789abcdef", 20*time.Millisecond)
	if id == "" {
		t.Fatal("no snapshot for a request over its budget")
	}
	// The same route again within the cooldown: skipped, counted.
	if id2 := r.Observe("/slow", "x", time.Second); id2 != "" {
		t.Errorf("second snapshot %q within the cooldown", id2)
	}
	snaps := waitSnapshots(t, r, reg, 1)
	if len(snaps) != 1 || snaps[0].ID != id || snaps[0].Route != "/slow" || snaps[0].Duration != 20*time.Millisecond ||
		snaps[0].Budget != 10*time.Millisecond || snaps[0].TraceID != "0123456789abcdef0123456789abcdef" || snaps[0].Size <= 0 {
		t.Fatalf("snapshots %+v; want one of /slow, 20ms, id %s", snaps, id)
	}
	if got := counted(t, reg, flightrecorder.SkipCooldown); got != 1 {
		t.Errorf("cooldown skips %v, want 1", got)
	}
	if got := testutil.ToFloat64(mustCounter(t, reg)); got != 1 {
		t.Errorf("%s = %v, want 1", catalog.FlightRecorderSnapshots, got)
	}
	f, err := r.Open(id)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("go 1.")) || int64(len(data)) != snaps[0].Size {
		t.Errorf("snapshot starts %q, %d bytes; want a Go trace header and %d bytes", data[:min(16, len(data))], len(data), snaps[0].Size)
	}
	if !bytes.Contains(data, []byte("0123456789abcdef0123456789abcdef")) {
		t.Error("the snapshot lacks the request's trace id log")
	}
	if _, err := r.Open("nope"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open of an unknown id: %v, want os.ErrNotExist", err)
	}
}

func mustCounter(t *testing.T, reg *prometheus.Registry) prometheus.Collector {
	t.Helper()
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == catalog.FlightRecorderSnapshots {
			c := prometheus.NewCounter(prometheus.CounterOpts{Name: "x", Help: "x"})
			c.Add(mf.GetMetric()[0].GetCounter().GetValue())
			return c
		}
	}
	t.Fatalf("%s not registered", catalog.FlightRecorderSnapshots)
	return nil
}

func TestConcurrentTriggersMerge(t *testing.T) {
	r, reg := start(t, flightrecorder.Config{Budget: time.Millisecond})
	ids := map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := r.Observe(fmt.Sprintf("/r%d", i), fmt.Sprint(i), time.Second)
			mu.Lock()
			ids[id]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	// Twenty routes ending together: the writer waits for them before writing, so one snapshot
	// covers them all.
	if len(ids) != 1 || ids[""] != 0 {
		t.Fatalf("ids %v; want one snapshot id for all 20", ids)
	}
	snaps := waitSnapshots(t, r, reg, 1)
	if len(snaps) != 1 || len(snaps[0].Requests) != 20 {
		t.Fatalf("%d snapshots, first with %d requests; want 1 with 20", len(snaps), len(snaps[0].Requests))
	}
}

// TestThousandSlowRequests: under 1,000 concurrent slow requests on 50 routes, in waves, each
// route takes at most one snapshot per cooldown, at most Keep are kept, within the memory (or
// disk) cap, and every slow request is either covered by a snapshot or counted as skipped.
func TestThousandSlowRequests(t *testing.T) {
	for _, dir := range []string{"", t.TempDir()} {
		name := "memory"
		if dir != "" {
			name = "disk"
		}
		t.Run(name, func(t *testing.T) {
			const keep, capBytes, cooldown = 3, 8 << 20, 40 * time.Millisecond
			r, reg := start(t, flightrecorder.Config{Budget: time.Millisecond, Keep: keep, Cooldown: cooldown,
				MaxMemoryBytes: capBytes, Dir: dir, MaxDiskBytes: capBytes})
			type grant struct{ before, after time.Time }
			var mu sync.Mutex
			ids := map[string]bool{}
			perRoute := map[string][]grant{}
			skipped := 0
			var wg sync.WaitGroup
			sem := make(chan struct{}, 64)
			for i := range 1000 {
				wg.Add(1)
				sem <- struct{}{}
				go func() {
					defer func() { <-sem; wg.Done() }()
					route := fmt.Sprintf("/r%d", i%50)
					before := time.Now()
					id := r.Observe(route, "", 5*time.Millisecond)
					after := time.Now()
					mu.Lock()
					defer mu.Unlock()
					if id == "" {
						skipped++
						return
					}
					ids[id] = true
					perRoute[route] = append(perRoute[route], grant{before, after})
				}()
				if i%100 == 99 {
					time.Sleep(cooldown / 2) // waves: some within a cooldown, some after
				}
			}
			wg.Wait()
			waitSnapshots(t, r, reg, len(ids))
			for route, gs := range perRoute {
				slices.SortFunc(gs, func(a, b grant) int { return a.before.Compare(b.before) })
				for i := 1; i < len(gs); i++ {
					if gap := gs[i].after.Sub(gs[i-1].before); gap < cooldown {
						t.Errorf("route %s: two snapshots %v apart, within the cooldown %v", route, gap, cooldown)
					}
				}
			}
			if got := counted(t, reg, flightrecorder.SkipCooldown) + counted(t, reg, flightrecorder.SkipBusy); int(got) != skipped {
				t.Errorf("cooldown+busy skips counted %v, Observe returned no id %d times", got, skipped)
			}
			if got := int(counted(t, reg, "")); got != len(ids) {
				t.Errorf("snapshots written %d, distinct ids handed out %d", got, len(ids))
			}
			snaps := r.Snapshots()
			var total int64
			for _, s := range snaps {
				total += s.Size
			}
			if len(ids) <= keep {
				t.Errorf("only %d snapshots written: the test must write more than Keep=%d", len(ids), keep)
			}
			if len(snaps) > keep || total > capBytes || len(snaps) == 0 {
				t.Errorf("%d snapshots kept, %d bytes; want 1..%d within %d bytes", len(snaps), total, keep, capBytes)
			}
			if dir != "" {
				files, _ := filepath.Glob(filepath.Join(dir, "*"))
				if len(files) != len(snaps) {
					t.Errorf("%d files in Dir, %d snapshots kept: %v", len(files), len(snaps), files)
				}
			}
			t.Logf("1000 slow requests: %d snapshots written, %d kept (%d bytes); skipped: %v cooldown, %v busy",
				len(ids), len(snaps), total, counted(t, reg, flightrecorder.SkipCooldown), counted(t, reg, flightrecorder.SkipBusy))
		})
	}
}

func TestSnapshotOverCapIsDropped(t *testing.T) {
	r, reg := start(t, flightrecorder.Config{Budget: time.Millisecond, MaxMemoryBytes: 1})
	if id := r.Observe("/", "", time.Second); id == "" {
		t.Fatal("no snapshot scheduled")
	}
	waitSnapshots(t, r, reg, 1)
	if got := counted(t, reg, flightrecorder.SkipCap); got != 1 || len(r.Snapshots()) != 0 {
		t.Errorf("cap skips %v, %d kept; want 1 and 0", got, len(r.Snapshots()))
	}
}

func TestStop(t *testing.T) {
	r, err := flightrecorder.New(flightrecorder.Config{Budget: time.Millisecond, Cooldown: -1})
	if err != nil {
		t.Fatal(err)
	}
	r.Observe("/", "", time.Second) // a snapshot pending or being written when Stop comes
	if err := r.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := r.Stop(context.Background()); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if id := r.Observe("/", "", time.Second); id != "" {
		t.Errorf("Observe after Stop scheduled %q", id)
	}
	// The runtime's recorder is stopped too: another can start.
	r2, err := flightrecorder.New(flightrecorder.Config{Budget: time.Millisecond})
	if err != nil {
		t.Fatalf("a recorder after Stop: %v", err)
	}
	r2.Stop(context.Background())
	// TestMain's leak check covers the writer goroutine.
}

// TestOnePerProcess: a second flight recorder is refused with ErrActive, whether it is ours or
// the service's own; trace.Start alongside ours works, and both see the trace.
func TestOnePerProcess(t *testing.T) {
	t.Run("two Recorders", func(t *testing.T) {
		start(t, flightrecorder.Config{Budget: time.Millisecond})
		_, err := flightrecorder.New(flightrecorder.Config{Budget: time.Millisecond})
		if !errors.Is(err, flightrecorder.ErrActive) {
			t.Errorf("second New: %v, want ErrActive", err)
		}
	})
	t.Run("service's own flight recorder", func(t *testing.T) {
		own := trace.NewFlightRecorder(trace.FlightRecorderConfig{})
		if err := own.Start(); err != nil {
			t.Fatal(err)
		}
		defer own.Stop()
		_, err := flightrecorder.New(flightrecorder.Config{Budget: time.Millisecond})
		if !errors.Is(err, flightrecorder.ErrActive) {
			t.Errorf("New beside the service's recorder: %v, want ErrActive", err)
		}
	})
	t.Run("service calls trace.Start", func(t *testing.T) {
		r, reg := start(t, flightrecorder.Config{Budget: time.Millisecond})
		var buf bytes.Buffer
		if err := trace.Start(&buf); err != nil {
			t.Fatalf("trace.Start beside the flight recorder: %v", err)
		}
		_, task := flightrecorder.StartTask(context.Background(), "/both", "feedfeedfeedfeedfeedfeedfeedfeed")
		task.End()
		id := r.Observe("/both", "feedfeedfeedfeedfeedfeedfeedfeed", time.Second)
		waitSnapshots(t, r, reg, 1)
		trace.Stop()
		f, err := r.Open(id)
		if err != nil {
			t.Fatal(err)
		}
		snap, _ := io.ReadAll(f)
		f.Close()
		for name, data := range map[string][]byte{"snapshot": snap, "trace.Start": buf.Bytes()} {
			if !bytes.Contains(data, []byte("feedfeedfeedfeedfeedfeedfeedfeed")) {
				t.Errorf("the %s trace lacks the request's trace id", name)
			}
		}
		// The service's own trace.Start and Stop leave ours running.
		if id := r.Observe("/after", "", time.Second); id == "" {
			t.Error("no snapshot after the service's trace.Stop")
		}
		waitSnapshots(t, r, reg, 2)
	})
}
