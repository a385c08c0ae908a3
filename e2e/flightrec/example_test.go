package flightrec_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/perfobs/perfobs-go/perfobs"
	"github.com/perfobs/perfobs-go/perfobs/tracesummary"
)

// A service with a 50 ms budget: a request that sleeps 120 ms leaves a snapshot, whose summary
// says where the time went.
func Example() {
	obs, err := perfobs.Start(context.Background(), perfobs.Config{Service: "checkout",
		LookupEnv:      func(string) (string, bool) { return "", false },
		FlightRecorder: perfobs.FlightRecorderConfig{Budget: 50 * time.Millisecond}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer obs.Shutdown(context.Background())
	mux := http.NewServeMux()
	mux.HandleFunc("GET /report", func(w http.ResponseWriter, r *http.Request) { time.Sleep(120 * time.Millisecond) })
	obs.HTTP(mux).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/report", nil))

	fr := obs.FlightRecorder()
	for len(fr.Snapshots()) == 0 {
		time.Sleep(time.Millisecond)
	}
	snap := fr.Snapshots()[0]
	f, _ := fr.Open(snap.ID)
	defer f.Close()
	s, err := tracesummary.Summarize(f, tracesummary.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(snap.Route, s.Task, s.Dominant())
	// Output: /report /report sleep
}
