package loadtest

import (
	"fmt"
	"math"
	"runtime"
	"strings"
	"time"
)

// Thresholds of the generator's honesty checks.
const (
	// lateBy: a request that leaves this much after its planned time left late. Below it,
	// lateness is the timer and scheduler jitter of a busy machine.
	lateBy = 50 * time.Millisecond
	// lateShare and lateMin: when more than this share of requests, and at least lateMin of
	// them, left late, the generator could not keep the schedule, and the service's figures
	// are not the service's alone.
	lateShare = 0.05
	lateMin   = 10
	// cpuSaturated: the generator process used this share of the machine's cores or more.
	cpuSaturated = 0.9
)

// Generator is the load generator's own health during a run: whether requests left on
// schedule, and why not.
type Generator struct {
	// LateP99 and LateMax are how late requests left against their planned time; LateShare
	// is the share that left more than LateBy late.
	LateP99   time.Duration `json:"late_p99"`
	LateMax   time.Duration `json:"late_max"`
	LateBy    time.Duration `json:"late_by"`
	LateShare float64       `json:"late_share"`
	// MaxInFlight is the most requests in flight at once; MaxWorkers the cap (0: none).
	MaxInFlight int64  `json:"max_in_flight"`
	MaxWorkers  uint64 `json:"max_workers,omitempty"`
	// CPU is the share of the machine's cores the generator's process used.
	CPU float64 `json:"cpu"`
	// Bound is true when the generator was the bottleneck; Reasons say how, and Since when
	// it first fell behind (from the start of the run).
	Bound   bool          `json:"bound"`
	Reasons []string      `json:"reasons,omitempty"`
	Since   time.Duration `json:"since,omitempty"`
}

func generatorHealth(r *Report, maxInFlight int64, maxWorkers uint64, cpu, wall time.Duration) *Generator {
	g := &Generator{LateBy: lateBy, MaxInFlight: maxInFlight, MaxWorkers: maxWorkers}
	if wall > 0 && cpu > 0 {
		g.CPU = cpu.Seconds() / wall.Seconds() / float64(runtime.NumCPU())
	}
	late := make([]time.Duration, len(r.recs))
	n := 0
	for i := range r.recs {
		late[i] = r.recs[i].late
		if late[i] > lateBy {
			n++
		}
	}
	if len(late) > 0 {
		g.LateShare = float64(n) / float64(len(late))
		g.LateP99 = sortedQuantile(late, 0.99)
		g.LateMax = late[len(late)-1]
	}
	if g.LateShare > lateShare && n >= lateMin {
		g.Bound = true
		g.Reasons = append(g.Reasons, fmt.Sprintf("%s of requests left more than %s after their planned time (p99 %s late, max %s)",
			fmtPct(g.LateShare), lateBy, fmtDur(g.LateP99), fmtDur(g.LateMax)))
	}
	if maxWorkers > 0 && uint64(maxInFlight) >= maxWorkers && g.LateShare > 0.01 && n >= lateMin {
		g.Bound = true
		g.Reasons = append(g.Reasons, fmt.Sprintf("workers exhausted: %d requests in flight, the cap (--max-workers %d)", maxInFlight, maxWorkers))
	}
	if g.CPU >= cpuSaturated && !math.IsInf(g.CPU, 0) {
		g.Bound = true
		g.Reasons = append(g.Reasons, fmt.Sprintf("its CPU was saturated: %.0f%% of %d cores", g.CPU*100, runtime.NumCPU()))
	}
	return g
}

// since finds the first timeline bucket where requests left late.
func (g *Generator) since(r *Report) {
	if !g.Bound {
		return
	}
	for _, p := range r.Timeline {
		if p.LateP99 > lateBy {
			g.Since = p.T
			return
		}
	}
}

func (g *Generator) summary() string {
	s := fmt.Sprintf("requests left p99 %s late (max %s), %d in flight at most, CPU %.0f%%", fmtDur(g.LateP99), fmtDur(g.LateMax), g.MaxInFlight, g.CPU*100)
	if !g.Bound {
		return s + ": kept its schedule"
	}
	return s + ": THE LOAD GENERATOR WAS THE BOTTLENECK, not necessarily the service: " + strings.Join(g.Reasons, "; ") +
		fmt.Sprintf(" (from %s on)", g.Since)
}
