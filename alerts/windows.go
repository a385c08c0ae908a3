package alerts

import (
	"strconv"
	"time"
)

// Severities of the burn-rate alerts: the severity label of AlertWindow and of every alert.
const (
	SeverityPage   = "page"
	SeverityTicket = "ticket"
)

// AlertWindow is one condition of a multi-window, multi-burn-rate alert: the error ratio over
// both Long and Short must exceed Factor times the error budget.
type AlertWindow struct {
	Severity string
	Long     time.Duration
	Short    time.Duration
	// Factor is the burn rate: how many times faster than the objective allows the budget burns.
	Factor float64
	// BudgetFraction is the share of the whole period's budget that burning at Factor for Long consumes.
	BudgetFraction float64
}

// policy returns the alert windows of the Google SRE workbook (chapter 5, "Alerting on SLOs")
// for an SLO period: page when 2% of the budget burns in 1h or 5% in 6h, ticket when 10% burns
// in 1d or 10% in 3d; each short window is 1/12 of its long one. For 30 days the factors are
// 14.4, 6, 3 and 1; for other periods they are recomputed so that each alert still fires at the
// same budget consumption: factor = fraction × period / long window.
func policy(period time.Duration) []AlertWindow {
	ws := []AlertWindow{
		{Severity: SeverityPage, Long: time.Hour, Short: 5 * time.Minute, BudgetFraction: 0.02},
		{Severity: SeverityPage, Long: 6 * time.Hour, Short: 30 * time.Minute, BudgetFraction: 0.05},
		{Severity: SeverityTicket, Long: 24 * time.Hour, Short: 2 * time.Hour, BudgetFraction: 0.10},
		{Severity: SeverityTicket, Long: 72 * time.Hour, Short: 6 * time.Hour, BudgetFraction: 0.10},
	}
	for i := range ws {
		ws[i].Factor = roundFactor(ws[i].BudgetFraction * float64(period) / float64(ws[i].Long))
	}
	return ws
}

// roundFactor keeps four decimals, so 0.02×30d/1h prints as 14.4, not 14.399999999999999.
func roundFactor(f float64) float64 {
	s := strconv.FormatFloat(f, 'f', 4, 64)
	r, _ := strconv.ParseFloat(s, 64)
	return r
}
