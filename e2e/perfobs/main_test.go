// Package perfobs_test holds the facade's end-to-end tests that decode profiles with
// github.com/google/pprof: the uploads a loopback Pyroscope ingest server receives, and the
// profiles PprofHandler serves. They run through the public API only, so that the perfobs module
// itself needs no pprof parser.
package perfobs_test

import (
	"testing"

	"github.com/perfobs/perfobs-go/leaktest"
)

func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }
