// Package loadtest drives constant-rate HTTP load with github.com/tsenart/vegeta/v12 and checks
// the result against a latency and error budget such as "p99<200ms,errors<1%".
//
// The load is open-model: requests leave on schedule whether or not earlier ones have
// answered, so a slow service cannot slow the load down and hide its own latency (no
// coordinated omission). Run drives one rate; Stress raises the rate step by step (a Ramp) and
// reports the highest rate that met the budget and how the service failed past it. A /metrics
// scrape before and after (WithMetricsURL) puts the service's own RED figures beside the
// client's. Raw results can be kept in vegeta's encoding (WithOutput) and merged later from
// several machines with ReadResults.
//
// The package is a tool: the SDK packages of this module never import it.
package loadtest
