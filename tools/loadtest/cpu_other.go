//go:build !unix

package loadtest

import "time"

// cpuTime is unknown here: the CPU check is skipped.
func cpuTime() time.Duration { return 0 }
