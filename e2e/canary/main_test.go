// Package canary_test runs perfobs canary end to end: a real Prometheus 2.42 scrapes pairs of
// instances of one service built with the SDK (child processes), baseline and canary, under the
// same open-model load, and the judge reads them back over Prometheus's HTTP API.
package canary_test

import (
	"os"
	"testing"

	"github.com/perfobs/perfobs-go/leaktest"
)

func TestMain(m *testing.M) {
	if os.Getenv(serviceEnv) == "1" {
		os.Exit(serveMain())
	}
	leaktest.VerifyTestMain(m)
}
