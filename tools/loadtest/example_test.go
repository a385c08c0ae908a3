package loadtest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/perfobs/perfobs-go/tools/loadtest"
)

// Drive 50 requests per second for half a second at a loopback server and check a budget.
func ExampleRun() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	}))
	defer srv.Close()

	budget, err := loadtest.ParseBudget("p99<500ms,errors<1%")
	if err != nil {
		fmt.Println(err)
		return
	}
	target, err := loadtest.ParseTarget("GET " + srv.URL + "/users/1")
	if err != nil {
		fmt.Println(err)
		return
	}
	rep, err := loadtest.Run(context.Background(), []loadtest.Target{target}, 50, 500e6)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("requests:", rep.Requests >= 24 && rep.Requests <= 26)
	fmt.Printf("errors: %.0f%%\n", rep.ErrorRate*100)
	fmt.Println("budget broken:", len(budget.Check(rep)) > 0)
	// Output:
	// requests: true
	// errors: 0%
	// budget broken: false
}

// A ramp is written FROM:TO:STEP/INTERVAL.
func ExampleParseRamp() {
	r, err := loadtest.ParseRamp("50:500:50/10s")
	fmt.Println(r.From, r.To, r.Step, r.Interval, err)
	_, err = loadtest.ParseRamp("50-500")
	fmt.Println(err)
	// Output:
	// 50 500 50 10s <nil>
	// ramp "50-500": no /INTERVAL (want FROM:TO:STEP/INTERVAL, as in 50:500:50/10s)
}
