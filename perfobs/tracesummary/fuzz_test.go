package tracesummary_test

import (
	"bytes"
	"context"
	"runtime/trace"
	"testing"
	"time"

	"github.com/perfobs/perfobs-go/flightrecorder"
	"github.com/perfobs/perfobs-go/perfobs/tracesummary"
)

// FuzzSummarize: any bytes give a summary or an error, never a panic.
func FuzzSummarize(f *testing.F) {
	var buf bytes.Buffer
	if err := trace.Start(&buf); err != nil {
		f.Fatal(err)
	}
	_, task := flightrecorder.StartTask(context.Background(), "/seed", "seed")
	time.Sleep(time.Millisecond)
	task.End()
	trace.Stop()
	seed := buf.Bytes()
	f.Add(seed, "seed")
	f.Add(seed[:len(seed)/3], "")
	f.Add([]byte("go 1.26 trace\x00\x00\x00"), "")
	f.Add([]byte{}, "x")
	f.Fuzz(func(t *testing.T, data []byte, traceID string) {
		if len(data) > 1<<20 {
			return
		}
		s, err := tracesummary.Summarize(bytes.NewReader(data), tracesummary.Options{TraceID: traceID})
		if err == nil {
			var out bytes.Buffer
			if err := s.WriteText(&out); err != nil {
				t.Fatal(err)
			}
			_ = s.Short()
		}
	})
}
