package profiling

import (
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/perfobs/perfobs-go/catalog"
)

// Status is what the status page shows of a running profiler.
type Status struct {
	Server      string // the ingest URL, password redacted
	Types       []string
	UploadRate  time.Duration
	Uploads     uint64
	LastUpload  time.Time // zero: none yet
	LastError   string
	LastErrorAt time.Time
	Dropped     map[string]float64 // by reason, as perfobs_profiling_dropped_total counts them
}

// Status reports the uploads so far. It reads atomics and the drop counters; it takes no
// profile.
func (p *Profiler) Status() Status {
	u := p.up
	s := Status{Server: u.base.Redacted(), Types: p.Types(), UploadRate: p.cfg.UploadRate,
		Uploads: u.uploads.Load(), Dropped: map[string]float64{}}
	if ns := u.lastUpload.Load(); ns != 0 {
		s.LastUpload = time.Unix(0, ns)
	}
	u.errMu.Lock()
	s.LastError, s.LastErrorAt = u.lastErr, u.lastErrAt
	u.errMu.Unlock()
	for reason, c := range map[string]interface{ Write(*dto.Metric) error }{
		catalog.ReasonQueueFull: u.queueFull, catalog.ReasonUploadError: u.uploadError, catalog.ReasonShutdown: u.shutdown,
	} {
		var m dto.Metric
		if c.Write(&m) == nil {
			s.Dropped[reason] = m.GetCounter().GetValue()
		}
	}
	return s
}
