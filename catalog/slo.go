package catalog

// Recording rules, alerts and labels that the generated SLO and Go runtime rules write
// (package alerts), for the dashboards that read them. A recording named with a Rate prefix takes
// the window as a suffix: SLOErrorRatioRate + "5m" is perfobs_slo:error_ratio:rate5m. The
// windows recorded are 5m, 30m, 1h, 2h, 6h, 1d and 3d.
const (
	SLORequestsRate      = "perfobs_slo:requests:rate"      // requests per second over the window
	SLOErrorsRate        = "perfobs_slo:errors:rate"        // bad requests per second (5m only)
	SLOErrorRatioRate    = "perfobs_slo:error_ratio:rate"   // bad / all requests over the window
	SLOErrorRatioPeriod  = "perfobs_slo:error_ratio:period" // bad / all requests over the SLO window
	SLOObjective         = "perfobs_slo:objective:ratio"    // the objective, 0.999 for 99.9%
	SLOBudgetRemaining   = "perfobs_slo:error_budget_remaining:ratio"
	SLOLastSeen          = "perfobs_slo:last_seen:timestamp_seconds" // when the SLO's series were last scraped
	AlertSLOBurn         = "SLOErrorBudgetBurn"
	AlertSLONoData       = "SLONoData"
	AlertGoroutineGrowth = "GoGoroutineGrowth"
	AlertGoMemoryLimit   = "GoMemoryNearLimit"
	AlertGoHeapGrowth    = "GoHeapGrowingToLimit"
	AlertGoGCCPU         = "GoGCCPUHigh"
	AlertGoSchedLatency  = "GoSchedLatencyHigh"

	LabelSLO      = "slo"      // SLO name, on every SLO recording and alert
	LabelService  = "service"  // service name, on every recording and alert
	LabelSeverity = "severity" // page or ticket
	LabelTier     = "tier"     // the service's tier, from the spec
)
