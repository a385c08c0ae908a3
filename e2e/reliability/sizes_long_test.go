//go:build reliability

package reliability

import "time"

// Sizes of the tagged long run: the full sizes. Flags override them (.ci/extra passes
// shorter ones).
const (
	defaultAttack     = 100_000
	defaultGRPCAttack = 100_000
	defaultWorkers    = 1_000
	defaultOutage     = 10 * time.Second
	defaultCycles     = 1_000
)
