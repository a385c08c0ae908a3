//go:build unix

package flightrec_test

import (
	"fmt"
	"net"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/perfobs"
	"github.com/perfobs/perfobs-go/perfobs/tracesummary"
)

const slowFor = 80 * time.Millisecond

var sink uint64

// slowHandlers are handlers slow for one known reason each, and the reason the summary must name.
func slowHandlers(t *testing.T) []struct {
	route, reason string
	h             http.HandlerFunc
} {
	upstream := slowUpstream(t)
	return []struct {
		route, reason string
		h             http.HandlerFunc
	}{
		{"/mutex", tracesummary.ReasonSync, func(w http.ResponseWriter, r *http.Request) {
			var mu sync.Mutex
			mu.Lock()
			go func() { time.Sleep(slowFor); mu.Unlock() }() // another goroutine holds the lock
			mu.Lock()
			mu.Unlock() //lint:ignore SA2001 waiting for the lock is the point
		}},
		{"/channel", tracesummary.ReasonChannel, func(w http.ResponseWriter, r *http.Request) {
			ch := make(chan int)
			go func() { time.Sleep(slowFor); ch <- 1 }()
			<-ch
		}},
		{"/cpu", tracesummary.ReasonRunning, func(w http.ResponseWriter, r *http.Request) {
			x := uint64(1)
			for end := time.Now().Add(slowFor); time.Now().Before(end); {
				for range 1000 {
					x = x*6364136223846793005 + 1442695040888963407
				}
			}
			sink = x
		}},
		{"/sleep", tracesummary.ReasonSleep, func(w http.ResponseWriter, r *http.Request) { time.Sleep(slowFor) }},
		{"/network", tracesummary.ReasonNetwork, func(w http.ResponseWriter, r *http.Request) {
			c, err := net.Dial("tcp", upstream)
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			defer c.Close()
			buf := make([]byte, 1)
			c.Read(buf) // the upstream answers after slowFor
		}},
		{"/syscall", tracesummary.ReasonSyscall, func(w http.ResponseWriter, r *http.Request) {
			var fds [2]int
			if err := syscall.Pipe(fds[:]); err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			defer syscall.Close(fds[0])
			go func() { time.Sleep(slowFor); syscall.Write(fds[1], []byte{1}); syscall.Close(fds[1]) }()
			buf := make([]byte, 1)
			syscall.Read(fds[0], buf) // a blocking read, outside the network poller
		}},
	}
}

// slowUpstream is a TCP server that answers one byte slowFor after each connection.
func slowUpstream(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				time.Sleep(slowFor)
				c.Write([]byte{1})
			}()
		}
	}()
	return ln.Addr().String()
}

// TestSlowRequestsNameTheirReason: each handler slow for a known reason gives a snapshot, listed
// by DebugHandler, whose summary for that request's trace id names the reason; the request's
// server span carries the snapshot's id.
func TestSlowRequestsNameTheirReason(t *testing.T) {
	mux := http.NewServeMux()
	handlers := slowHandlers(t)
	for _, h := range handlers {
		mux.Handle("GET "+h.route, h.h)
	}
	s := start(t, perfobs.FlightRecorderConfig{Budget: 30 * time.Millisecond}, mux)
	for i, h := range handlers {
		t.Run(h.route, func(t *testing.T) {
			traceID := fmt.Sprintf("%032x", 0xf100+i)
			s.get(t, h.route, traceID)
			e := s.waitEntry(t, traceID) // before the next request, so that none finds the writer busy
			if e.Route != h.route || e.TraceID != traceID || e.DurationSeconds < slowFor.Seconds() {
				t.Errorf("entry %+v; want route %s, trace %s, at least %v", e, h.route, traceID, slowFor)
			}
			f := s.file(t, e)
			sum, err := tracesummary.Summarize(f, tracesummary.Options{TraceID: traceID})
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			st, total := sum.Total, sum.Total.Total()
			ok := sum.Dominant() == h.reason
			if h.reason == tracesummary.ReasonRunning {
				// On a loaded machine a CPU loop also waits for a processor: both are CPU demand.
				ok = st.Running+st.Runnable > total*8/10 && st.Running > total/5
			}
			if !ok || !sum.Complete || sum.Task != h.route {
				t.Errorf("summary of %s: task %q complete %v, mostly %q, want %q\n%+v", h.route, sum.Task, sum.Complete,
					sum.Dominant(), h.reason, st)
			}
			if got := e.Summary; len(got) < len(h.reason) || got[:len(h.reason)] != h.reason && h.reason != tracesummary.ReasonRunning {
				t.Errorf("api/traces summary %q does not start with %s", got, h.reason)
			}
			if got := snapshotAttr(s, traceID); got != e.ID {
				t.Errorf("server span of trace %s carries snapshot id %q, want %q", traceID, got, e.ID)
			}
		})
	}
}

// snapshotAttr is the snapshot-id attribute of traceID's server span.
func snapshotAttr(s *service, traceID string) string {
	for _, sp := range s.spans.Ended() {
		if sp.SpanContext().TraceID().String() != traceID || sp.SpanKind() != trace.SpanKindServer {
			continue
		}
		for _, kv := range sp.Attributes() {
			if string(kv.Key) == catalog.FlightRecorderSnapshotAttr {
				return kv.Value.AsString()
			}
		}
	}
	return ""
}
