// Package promql holds the PromQL text helpers that the rule generator (alerts) and the
// dashboards (dashboards) share, so that a duration or a number is written the same way in a rule
// and in the panel that reads it. Users do not call it: it is internal to perfobs-go.
package promql
