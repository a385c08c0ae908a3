package flightrecorder_test

import (
	"context"
	"fmt"
	"time"

	"github.com/perfobs/perfobs-go/flightrecorder"
)

// A request of /checkout that took 300 ms against a 100 ms budget makes the recorder write a
// snapshot of the last seconds of execution trace, in the background.
func ExampleRecorder() {
	r, err := flightrecorder.New(flightrecorder.Config{Budget: 100 * time.Millisecond})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Stop(context.Background())

	ctx, task := flightrecorder.StartTask(context.Background(), "/checkout", "")
	_ = ctx // the handler runs with ctx
	task.End()
	id := r.Observe("/checkout", "", 300*time.Millisecond)
	fmt.Println("snapshot scheduled:", id != "")

	for len(r.Snapshots()) == 0 {
		time.Sleep(time.Millisecond)
	}
	s := r.Snapshots()[0]
	fmt.Println(s.Route, s.Duration, s.Budget, s.ID == id)
	// Output:
	// snapshot scheduled: true
	// /checkout 300ms 100ms true
}
