package flightrec_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime/trace"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/flightrecorder"
	"github.com/perfobs/perfobs-go/perfobs"
	"github.com/perfobs/perfobs-go/perfobs/tracesummary"
)

// counters reads the snapshot counters from the Observer's registry: taken, and skipped by reason.
func counters(t *testing.T, s *service) (float64, map[string]float64) {
	t.Helper()
	mfs, err := s.obs.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var taken float64
	skipped := map[string]float64{}
	for _, mf := range mfs {
		switch mf.GetName() {
		case catalog.FlightRecorderSnapshots:
			taken = mf.GetMetric()[0].GetCounter().GetValue()
		case catalog.FlightRecorderSkipped:
			for _, m := range mf.GetMetric() {
				skipped[label(m, catalog.LabelReason)] = m.GetCounter().GetValue()
			}
		}
	}
	return taken, skipped
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// TestThousandSlowRequests: 1,000 slow requests on 20 routes, 50 at a time, through a real
// server. With the default one-minute cooldown each route takes at most one snapshot, at most
// Keep are kept, and every slow request is either covered by a snapshot (its span says which) or
// counted as skipped.
func TestThousandSlowRequests(t *testing.T) {
	const routes, keep = 20, 5
	mux := http.NewServeMux()
	for n := range routes {
		mux.HandleFunc(fmt.Sprintf("GET /r%d", n), func(w http.ResponseWriter, r *http.Request) { time.Sleep(3 * time.Millisecond) })
	}
	s := start(t, perfobs.FlightRecorderConfig{Budget: time.Millisecond, Keep: keep}, mux)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 50)
	for i := range 1000 {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			s.get(t, fmt.Sprintf("/r%d", i%routes), fmt.Sprintf("%032x", i+1))
		}()
	}
	wg.Wait()
	time.Sleep(200 * time.Millisecond) // the last snapshot is written
	taken, skipped := counters(t, s)
	ids := map[string]bool{}
	perRoute := map[string]map[string]bool{}
	covered := 0
	for _, sp := range s.spans.Ended() {
		for _, kv := range sp.Attributes() {
			if string(kv.Key) != catalog.FlightRecorderSnapshotAttr {
				continue
			}
			covered++
			ids[kv.Value.AsString()] = true
			route := sp.Name()
			if perRoute[route] == nil {
				perRoute[route] = map[string]bool{}
			}
			perRoute[route][kv.Value.AsString()] = true
		}
	}
	for route, got := range perRoute {
		if len(got) > 1 {
			t.Errorf("%s took %d snapshots within one cooldown", route, len(got))
		}
	}
	if got := skipped[flightrecorder.SkipCooldown] + skipped[flightrecorder.SkipBusy]; int(got)+covered != 1000 {
		t.Errorf("skipped %v (cooldown+busy) + covered %d = %d, want the 1,000 slow requests", skipped, covered, int(got)+covered)
	}
	if int(taken) != len(ids) || taken > routes || taken == 0 {
		t.Errorf("%v snapshots taken, %d ids on spans; want the same, 1..%d", taken, len(ids), routes)
	}
	if list := s.traces(t); len(list) > keep || len(list) == 0 {
		t.Errorf("%d snapshots listed, want 1..%d", len(list), keep)
	}
	t.Logf("1,000 slow requests on %d routes: %v snapshots covering %d requests, skipped %v", routes, taken, covered, skipped)
}

// TestKeepAndMemoryCap: with no cooldown, snapshots of many slow requests stay within Keep and
// the memory cap.
func TestKeepAndMemoryCap(t *testing.T) {
	const keep, capBytes = 3, 4 << 20
	mux := http.NewServeMux()
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) { time.Sleep(3 * time.Millisecond) })
	s := start(t, perfobs.FlightRecorderConfig{Budget: time.Millisecond, Keep: keep, Cooldown: -1, MaxMemoryBytes: capBytes}, mux)
	for i := range 40 {
		s.get(t, "/slow", fmt.Sprintf("%032x", i+1))
		time.Sleep(15 * time.Millisecond) // let the writer finish, so that most requests get their own
	}
	// The last snapshot is written in the background and may evict an older one: wait until the
	// counters stop moving, so that the list read next is the one whose files stay.
	taken, skipped := counters(t, s)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
		t2, s2 := counters(t, s)
		if t2 == taken && fmt.Sprint(s2) == fmt.Sprint(skipped) {
			break
		}
		taken, skipped = t2, s2
	}
	list := s.traces(t)
	var total int64
	for _, e := range list {
		f := s.file(t, e)
		var b bytes.Buffer
		b.ReadFrom(f)
		f.Close()
		total += int64(b.Len())
	}
	if taken <= keep || len(list) > keep || total > capBytes {
		t.Errorf("%v taken, %d kept (%d bytes); want more than %d taken, at most %d kept within %d bytes (skipped %v)",
			taken, len(list), total, keep, keep, capBytes, skipped)
	}
}

// TestServiceRunsTraceStart: a service that calls trace.Start itself keeps its trace, and the
// flight recorder works alongside; one that already runs a flight recorder cannot start ours.
func TestServiceRunsTraceStart(t *testing.T) {
	var own bytes.Buffer
	if err := trace.Start(&own); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) { time.Sleep(40 * time.Millisecond) })
	s := start(t, perfobs.FlightRecorderConfig{Budget: 10 * time.Millisecond}, mux)
	const id = "0af7651916cd43dd8448eb211c80319c"
	s.get(t, "/slow", id)
	e := s.waitEntry(t, id)
	trace.Stop()
	for name, read := range map[string]func() *bytes.Reader{
		"snapshot": func() *bytes.Reader {
			var b bytes.Buffer
			f := s.file(t, e)
			b.ReadFrom(f)
			f.Close()
			return bytes.NewReader(b.Bytes())
		},
		"service's own trace": func() *bytes.Reader { return bytes.NewReader(own.Bytes()) },
	} {
		sum, err := tracesummary.Summarize(read(), tracesummary.Options{TraceID: id})
		if err != nil || sum.Dominant() != tracesummary.ReasonSleep {
			t.Errorf("%s: summary %v, %v; want the request, mostly sleep", name, sum, err)
		}
	}

	_, err := perfobs.Start(context.Background(), perfobs.Config{LookupEnv: func(string) (string, bool) { return "", false },
		FlightRecorder: perfobs.FlightRecorderConfig{Budget: time.Second}})
	if !errors.Is(err, flightrecorder.ErrActive) {
		t.Errorf("a second Observer with a flight recorder: %v, want ErrActive", err)
	}
}

// TestShutdownStopsTheRecorder: after Shutdown the runtime's flight recorder is free again (the
// leak check of TestMain covers the goroutines).
func TestShutdownStopsTheRecorder(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) { time.Sleep(5 * time.Millisecond) })
	obs, err := perfobs.Start(context.Background(), perfobs.Config{LookupEnv: func(string) (string, bool) { return "", false },
		FlightRecorder: perfobs.FlightRecorderConfig{Budget: time.Millisecond, Cooldown: -1}})
	if err != nil {
		t.Fatal(err)
	}
	h := obs.HTTP(mux)
	for range 20 { // snapshots pending and being written when Shutdown comes
		go h.ServeHTTP(discard{}, mustRequest("/slow"))
	}
	time.Sleep(10 * time.Millisecond)
	if err := obs.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	fr, err := flightrecorder.New(flightrecorder.Config{Budget: time.Second})
	if err != nil {
		t.Fatalf("the runtime's flight recorder is still taken after Shutdown: %v", err)
	}
	fr.Stop(context.Background())
	time.Sleep(20 * time.Millisecond) // the handlers still sleeping finish
}

type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}

func mustRequest(path string) *http.Request {
	r, _ := http.NewRequest("GET", path, nil)
	return r
}
