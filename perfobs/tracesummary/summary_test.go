package tracesummary_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime/trace"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perfobs/perfobs-go/flightrecorder"
	"github.com/perfobs/perfobs-go/perfobs/tracesummary"
)

// slowKinds are handlers slow for one known reason each, and the reason the summary must name.
var slowKinds = []struct {
	name, want string
	run        func(ctx context.Context)
}{
	{"held mutex", tracesummary.ReasonSync, func(ctx context.Context) {
		var mu sync.Mutex
		mu.Lock()
		go func() { time.Sleep(80 * time.Millisecond); mu.Unlock() }()
		mu.Lock()
		//lint:ignore SA2001 waiting for the lock is the point
		mu.Unlock()
	}},
	{"channel wait", tracesummary.ReasonChannel, func(ctx context.Context) {
		ch := make(chan int)
		go func() { time.Sleep(80 * time.Millisecond); ch <- 1 }()
		<-ch
	}},
	{"CPU loop", tracesummary.ReasonRunning, func(ctx context.Context) {
		x := uint64(1)
		for end := time.Now().Add(80 * time.Millisecond); time.Now().Before(end); {
			for i := 0; i < 1000; i++ {
				x = x*6364136223846793005 + 1442695040888963407
			}
		}
		sink = x
	}},
	{"sleep", tracesummary.ReasonSleep, func(ctx context.Context) { time.Sleep(80 * time.Millisecond) }},
}

var sink uint64

// traceOf runs fn in a task logging traceID and returns a trace of it from trace.Start.
func traceOf(t *testing.T, traceID string, fn func(ctx context.Context)) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := trace.Start(&buf); err != nil {
		t.Fatal(err)
	}
	// A quick decoy task with another trace id: the summary must pick the right one.
	_, task := flightrecorder.StartTask(context.Background(), "/decoy", "decoy")
	time.Sleep(time.Millisecond)
	task.End()
	ctx, task := flightrecorder.StartTask(context.Background(), "/slow", traceID)
	fn(ctx)
	task.End()
	trace.Stop()
	return buf.Bytes()
}

func TestSummarizeNamesTheReason(t *testing.T) {
	for i, k := range slowKinds {
		t.Run(k.name, func(t *testing.T) {
			id := fmt.Sprintf("%032x", i+1)
			data := traceOf(t, id, k.run)
			s, err := tracesummary.Summarize(bytes.NewReader(data), tracesummary.Options{TraceID: id})
			if err != nil {
				t.Fatal(err)
			}
			var text strings.Builder
			if err := s.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			if s.Task != "/slow" || s.TraceID != id || !s.Complete {
				t.Errorf("task %q trace %q complete %v, want /slow %s true\n%s", s.Task, s.TraceID, s.Complete, id, text.String())
			}
			if got := s.Dominant(); got != k.want {
				t.Errorf("dominant %q, want %q\n%s", got, k.want, text.String())
			}
			if s.Duration < 70*time.Millisecond || s.Total.Total() > s.Duration*time.Duration(len(s.Goroutines))+time.Millisecond {
				t.Errorf("duration %v, states total %v: inconsistent\n%s", s.Duration, s.Total.Total(), text.String())
			}
			// Without a trace id the longest task is the slow one.
			s2, err := tracesummary.Summarize(bytes.NewReader(data), tracesummary.Options{})
			if err != nil || s2.TraceID != id {
				t.Errorf("default pick: %v, %v; want trace id %s", s2, err, id)
			}
		})
	}
}

func TestSummarizeErrors(t *testing.T) {
	data := traceOf(t, "abc", func(context.Context) {})
	_, err := tracesummary.Summarize(bytes.NewReader(data), tracesummary.Options{TraceID: "nope"})
	if !errors.Is(err, tracesummary.ErrNoTask) || !strings.Contains(err.Error(), "abc") {
		t.Errorf("unknown trace id: %v; want ErrNoTask listing abc", err)
	}
	for name, in := range map[string][]byte{
		"empty":     nil,
		"not trace": []byte("hello, world, this is not a trace"),
		"truncated": data[:len(data)/2],
	} {
		if _, err := tracesummary.Summarize(bytes.NewReader(in), tracesummary.Options{}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
