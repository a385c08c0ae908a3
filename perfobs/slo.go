package perfobs

import (
	"github.com/perfobs/perfobs-go/alerts"
	"github.com/perfobs/perfobs-go/perfobs/internal/status"
)

// slosOf converts an SLO model into the status page's objectives.
func slosOf(m *alerts.Model) []status.SLO {
	if m == nil {
		return nil
	}
	var out []status.SLO
	for _, s := range m.SLOs {
		slo := status.SLO{Name: s.Name, Kind: string(s.Kind), Protocol: string(s.Protocol),
			Objective: s.Objective, Threshold: s.Threshold, Routes: s.Routes}
		if slo.Protocol == status.KindGRPC {
			slo.Routes = s.Methods
		}
		out = append(out, slo)
	}
	return out
}
