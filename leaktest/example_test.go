package leaktest_test

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/perfobs/perfobs-go/leaktest"
)

// Find reports the goroutines started since IgnoreCurrent was taken, grouped by the place that started them.
func ExampleFind() {
	before := leaktest.IgnoreCurrent()

	stop := make(chan struct{})
	for range 3 {
		go func() { <-stop }() // three goroutines from one go statement
	}

	err := leaktest.Find(before, leaktest.WithTimeout(50*time.Millisecond))
	var leak *leaktest.LeakError
	if errors.As(err, &leak) {
		fmt.Printf("%d goroutines leaked from %d place\n", leak.Count(), leak.Groups())
		for _, line := range strings.Split(err.Error(), "\n") {
			if fn, ok := strings.CutPrefix(line, "  created by "); ok {
				fmt.Println("created by", strings.Fields(fn)[0])
			}
		}
	}

	close(stop) // the fix: let them end
	fmt.Println(leaktest.Find(before))
	// Output:
	// 3 goroutines leaked from 1 place
	// created by github.com/perfobs/perfobs-go/leaktest_test.ExampleFind
	// <nil>
}
