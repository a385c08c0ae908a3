package tracesummary_test

import (
	"bytes"
	"context"
	"runtime/debug"
	"testing"
	"time"

	"github.com/perfobs/perfobs-go/perfobs/tracesummary"
)

var keep [][]byte

// TestGCAssist: a request that allocates fast while the collector runs (GOGC 1) spends time in
// GC mark assist, and the summary counts it.
func TestGCAssist(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(1))
	data := traceOf(t, "gc", func(ctx context.Context) {
		keep = make([][]byte, 0, 1<<12)
		for end := time.Now().Add(80 * time.Millisecond); time.Now().Before(end); {
			keep = append(keep, make([]byte, 64<<10))
			if len(keep) == cap(keep) {
				keep = keep[:0]
			}
		}
	})
	keep = nil
	s, err := tracesummary.Summarize(bytes.NewReader(data), tracesummary.Options{TraceID: "gc"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Total.GCAssist <= 0 || s.Total.GCAssist > s.Duration {
		t.Errorf("GC assist %v of %v; want some, within the task", s.Total.GCAssist, s.Duration)
	}
	var text bytes.Buffer
	s.WriteText(&text)
	if !bytes.Contains(text.Bytes(), []byte("GC assist")) {
		t.Errorf("the text does not mention GC assist:\n%s", text.String())
	}
}
