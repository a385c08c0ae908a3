package status

import (
	"math"
	"slices"
	"time"
)

// Profiling is the body of /debug/perfobs/api/profiling.
type Profiling struct {
	Enabled           bool               `json:"enabled"`
	Server            string             `json:"server,omitempty"` // password redacted
	Types             []string           `json:"types,omitempty"`
	UploadRateSeconds float64            `json:"upload_rate_seconds,omitempty"`
	Uploads           uint64             `json:"uploads"`
	LastUpload        *time.Time         `json:"last_upload"`
	LastError         string             `json:"last_error,omitempty"`
	LastErrorAt       *time.Time         `json:"last_error_at,omitempty"`
	Dropped           map[string]float64 `json:"dropped"` // perfobs_profiling_dropped_total by reason
}

// SLO is one objective the SLO panel tracks.
type SLO struct {
	Name      string
	Kind      string // "availability" or "latency"
	Protocol  string // "http" or "grpc"
	Objective float64
	Threshold float64  // seconds, latency SLOs only
	Routes    []string // http_route or rpc_method values; empty: all of the protocol
}

// SLOStatus is one entry of /debug/perfobs/api/slo.
type SLOStatus struct {
	Name      string  `json:"name"`
	Kind      string  `json:"kind"`
	Protocol  string  `json:"protocol"`
	Objective float64 `json:"objective"`
	Threshold float64 `json:"threshold_seconds,omitempty"`
	// Requests and Bad count since start; BudgetRemaining is 1 - (Bad/Requests)/(1-Objective)
	// (negative once the budget is spent), null without requests.
	Requests        uint64   `json:"requests"`
	Bad             uint64   `json:"bad"`
	BudgetRemaining *float64 `json:"budget_remaining"`
	// Burn is the burn rate per window: the bad ratio over the window divided by the budget
	// (1 burns the budget exactly over the SLO period); null without requests in the window.
	Burn map[string]*float64 `json:"burn"`
	// ThresholdBucket is the bucket bound used for a latency SLO (the threshold, or the next
	// bound above it when the threshold is not a boundary).
	ThresholdBucket float64 `json:"threshold_bucket,omitempty"`
}

func (s SLO) matches(r Row) bool {
	if r.Kind != s.Protocol {
		return false
	}
	return len(s.Routes) == 0 || slices.Contains(s.Routes, r.Route)
}

// bad counts the window's requests that break the SLO.
func (s SLO) bad(d series) (bad uint64, bound float64, ok bool) {
	if s.Kind != "latency" {
		return d.errors, 0, true
	}
	for i, ub := range d.bounds {
		if ub >= s.Threshold-1e-12 {
			return d.count - min(d.cum[i], d.count), ub, true
		}
	}
	return 0, 0, false
}

func sloStatus(slos []SLO, rows []Row) []SLOStatus {
	out := []SLOStatus{}
	for _, s := range slos {
		st := SLOStatus{Name: s.Name, Kind: s.Kind, Protocol: s.Protocol, Objective: s.Objective,
			Threshold: s.Threshold, Burn: map[string]*float64{}}
		budget := 1 - s.Objective
		for _, w := range Windows {
			var total, bad uint64
			for _, r := range rows {
				if !s.matches(r) {
					continue
				}
				red := r.Windows[w.Name]
				b, bound, ok := s.bad(red.s)
				if !ok {
					continue
				}
				st.ThresholdBucket = math.Max(st.ThresholdBucket, bound)
				total += red.Requests
				bad += b
			}
			if w.Span == 0 {
				st.Requests, st.Bad = total, bad
				if total > 0 && budget > 0 {
					v := 1 - (float64(bad)/float64(total))/budget
					st.BudgetRemaining = &v
				}
				continue
			}
			if total > 0 && budget > 0 {
				v := (float64(bad) / float64(total)) / budget
				st.Burn[w.Name] = &v
			} else {
				st.Burn[w.Name] = nil
			}
		}
		out = append(out, st)
	}
	return out
}
