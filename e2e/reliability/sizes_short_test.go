//go:build !reliability

package reliability

import "time"

// Sizes of the normal run: every test short. The tagged run (sizes_long_test.go) uses the
// issue's full sizes; flags override both.
const (
	defaultAttack     = 20_000
	defaultGRPCAttack = 1_000
	defaultWorkers    = 100
	defaultOutage     = time.Second
	defaultCycles     = 10
)
