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

// A scenario holds stages of arrival rate, bursts, weighted targets and budgets.
func ExampleParseScenario() {
	sc, err := loadtest.ParseScenario([]byte(`
name: spike
stages:
  - {duration: 1m, rate: 50}
bursts:
  - {at: 20s, duration: 5s, rate: 400}
budget: "p99<200ms over 10s,recovery<15s"
targets:
  - {name: list, url: /items, weight: 4}
  - {name: buy, method: POST, url: /checkout, body: '{"id":1}', budget: "p99<300ms"}
`), "spike.yaml", "http://127.0.0.1:8080")
	if err != nil {
		fmt.Println(err)
		return
	}
	p := sc.Profile
	fmt.Println(sc.Name, p.Duration(), p.Rate(10e9), p.Rate(22e9), sc.Budget)
	for _, t := range sc.Targets {
		fmt.Printf("%s %s %s weight %g budget %q\n", t.Name, t.Method, t.URL, t.Weight, t.Budget)
	}
	_, err = loadtest.ParseScenario([]byte("stages: [{duration: 1m, rate: 50}]\ntargets: [{url: /x, weight: 0}]\n"), "bad.yaml", "http://127.0.0.1:8080")
	fmt.Println(err)
	// Output:
	// spike 1m0s 50 400 p99<200ms over 10s,recovery<15s
	// list GET http://127.0.0.1:8080/items weight 4 budget ""
	// buy POST http://127.0.0.1:8080/checkout weight 1 budget "p99<300ms"
	// bad.yaml: targets[0].weight 0: want a positive number
}

// Without an error limit, a budget gets the default one; a soak also gets "no significant
// growth" of goroutines and live heap.
func ExampleBudget_WithDefaults() {
	b, _ := loadtest.ParseBudget("p99<200ms")
	fmt.Println(b.WithDefaults(false))
	fmt.Println(b.WithDefaults(true))
	b, _ = loadtest.ParseBudget("p99<200ms,errors<5%,goroutines<100/h")
	fmt.Println(b.WithDefaults(true))
	// Output:
	// p99<200ms,errors<1%
	// p99<200ms,errors<1%,goroutines growth not significant,heap growth not significant
	// p99<200ms,errors<5%,goroutines<100/h,heap growth not significant
}
