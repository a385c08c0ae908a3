// Package loadtest drives open-model HTTP load with github.com/tsenart/vegeta/v12 and checks
// the result against a budget such as "p99<200ms,errors<1%,p99<300ms over 30s".
//
// The load is open-model: requests leave on schedule whether or not earlier ones have
// answered, so a slow service cannot slow the load down and hide its own latency (no
// coordinated omission). Run drives one constant rate; RunProfile follows a Profile (stages
// of constant or ramping rate, a sine, bursts; constant or Poisson arrivals); RunScenario runs
// a YAML Scenario with weighted targets and per-target budgets, and measures how long each
// burst takes to recover (Spike); Replay sends the requests of an access log at their
// recorded pacing; Stress raises the rate step by step (a Ramp) and reports the highest rate
// that met the budget and how the service failed past it.
//
// Latency percentiles count answered requests only: a refused connection fails fast, and
// counting it would make a dead service look quick. Budget.WithDefaults adds an error budget
// (DefaultErrorBudget) when none is written, and for soaks the "no significant growth" of
// goroutines and live heap. With WithMetricsURL the service's /metrics is scraped during the
// run: its RED figures go beside the client's, and its runtime series are fitted with
// Theil–Sen slopes and rank-based confidence intervals (Trends). Report.Generator says
// when the load generator, not the service, was the bottleneck; Judge then calls the run
// inconclusive. WriteHTML draws the run as one self-contained HTML page.
//
// Raw results can be kept in vegeta's encoding (WithOutput) and merged later from several
// machines with Results.
//
// The package is a tool: the SDK packages of this module never import it.
package loadtest
