package promql_test

import (
	"fmt"
	"time"

	"github.com/perfobs/perfobs-go/internal/promql"
)

func Example() {
	fmt.Printf("rate(x[%s]) / %s\n", promql.Duration(30*time.Minute), promql.Float(1-0.999))
	// Output: rate(x[30m]) / 0.001
}
