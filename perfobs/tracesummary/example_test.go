package tracesummary_test

import (
	"bytes"
	"context"
	"fmt"
	"runtime/trace"
	"time"

	"github.com/perfobs/perfobs-go/flightrecorder"
	"github.com/perfobs/perfobs-go/perfobs/tracesummary"
)

// A request that sleeps: the summary of its task says so.
func ExampleSummarize() {
	var buf bytes.Buffer
	if err := trace.Start(&buf); err != nil {
		fmt.Println(err)
		return
	}
	_, task := flightrecorder.StartTask(context.Background(), "/report", "4bf92f3577b34da6a3ce929d0e0e4736")
	time.Sleep(50 * time.Millisecond)
	task.End()
	trace.Stop()

	s, err := tracesummary.Summarize(&buf, tracesummary.Options{TraceID: "4bf92f3577b34da6a3ce929d0e0e4736"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.Task, s.Complete, s.Dominant())
	// Output: /report true sleep
}
