package status

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
)

//go:embed page.html
var pageHTML string

//go:embed style.css
var styleCSS []byte

// The page has no script at all: every value is rendered on the server by html/template, which
// escapes it for its context (text, attribute or URL), and the Content-Security-Policy forbids
// scripts, so a label value such as `<img src=x onerror=alert(1)>` can only ever show as text.
const csp = "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

var pageTmpl = template.Must(template.New("page").Funcs(template.FuncMap{
	"dur":      fmtDur,
	"pct":      fmtPct,
	"rate":     func(v float64) string { return fmt.Sprintf("%.2f", v) },
	"mib":      func(v uint64) string { return fmt.Sprintf("%.1f MiB", float64(v)/(1<<20)) },
	"le":       fmtLE,
	"ratio":    fmtRatio,
	"secs":     func(v float64) string { return fmtDur(&v) },
	"u64":      func(p *uint64) uint64 { return *p },
	"at":       func(p *time.Time) time.Time { return *p },
	"redTable": func(rows []Row, w []Window) redTable { return redTable{Rows: rows, Windows: w} },
	"since":    func(t time.Time, now time.Time) string { return now.Sub(t).Round(time.Second).String() + " ago" },
}).Parse(pageHTML))

type pageData struct {
	Service, Version, Environment string
	Now                           time.Time
	Windows                       []Window
	HTTP, GRPC                    []Row
	SamplingSeconds               float64
	Runtime                       Runtime
	Profiling                     Profiling
	SLOs                          []SLOStatus
	Traces                        []traceEntry
	TracesError                   string
	Errors                        []string
}

type redTable struct {
	Rows    []Row
	Windows []Window
}

type traceEntry struct{ Fields []traceField }

type traceField struct {
	Key, Value string
	Link       string // a path under /debug/perfobs/traces/, or ""
}

func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	rep, err := h.red()
	d := pageData{Service: h.src.Service, Version: h.src.Version, Environment: h.src.Environment,
		Now: rep.Now, Windows: Windows, SamplingSeconds: rep.SamplingSeconds,
		Runtime: readRuntime(h.src.Started, rep.Now), Profiling: h.profiling()}
	if err != nil {
		d.Errors = append(d.Errors, "gathering the registry: "+err.Error())
	}
	for _, row := range rep.Rows {
		if row.Kind == KindHTTP {
			d.HTTP = append(d.HTTP, row)
		} else {
			d.GRPC = append(d.GRPC, row)
		}
	}
	if len(h.src.SLOs) > 0 {
		d.SLOs = sloStatus(h.src.SLOs, rep.Rows)
	}
	d.Traces, d.TracesError = h.traces(r)
	var b strings.Builder
	if err := pageTmpl.Execute(&b, d); err != nil {
		http.Error(w, "status page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", csp)
	w.Header().Set("X-Frame-Options", "DENY")
	_, _ = w.Write([]byte(b.String()))
}

const maxTraceEntries = 50

// traces reads the flight recorder's list through its own handler, so that the page shows
// exactly what /debug/perfobs/api/traces serves.
func (h *Handler) traces(parent *http.Request) ([]traceEntry, string) {
	if h.src.Traces == nil {
		return nil, ""
	}
	req, err := http.NewRequestWithContext(parent.Context(), http.MethodGet, "/debug/perfobs/api/traces", nil)
	if err != nil {
		return nil, err.Error()
	}
	var rec recorder
	h.src.Traces.ServeHTTP(&rec, req)
	if rec.status != http.StatusOK {
		return nil, fmt.Sprintf("api/traces answered status %d", rec.status)
	}
	var list []map[string]any
	if err := json.Unmarshal(rec.body.Bytes(), &list); err != nil {
		return nil, "api/traces: not a JSON list of objects: " + err.Error()
	}
	var out []traceEntry
	for _, item := range list[:min(len(list), maxTraceEntries)] {
		var e traceEntry
		for _, k := range slices.Sorted(maps.Keys(item)) {
			f := traceField{Key: k}
			switch v := item[k].(type) {
			case string:
				f.Value = v
				if strings.HasPrefix(v, "/debug/perfobs/traces/") && !strings.Contains(v, "..") {
					f.Link = v
				}
			default:
				b, _ := json.Marshal(v)
				f.Value = string(b)
			}
			e.Fields = append(e.Fields, f)
		}
		out = append(out, e)
	}
	return out, ""
}

func serveCSS(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	_, _ = w.Write(styleCSS)
}

func fmtDur(v *float64) string {
	if v == nil {
		return "—"
	}
	s := *v
	switch {
	case s < 0.001:
		return fmt.Sprintf("%.0f µs", s*1e6)
	case s < 1:
		return fmt.Sprintf("%.1f ms", s*1e3)
	default:
		return fmt.Sprintf("%.2f s", s)
	}
}

func fmtPct(v *float64) string {
	if v == nil {
		return "—"
	}
	return fmt.Sprintf("%.1f %%", *v)
}

func fmtRatio(v *float64) string {
	if v == nil {
		return "—"
	}
	return fmt.Sprintf("%.2f", *v)
}

func fmtLE(v float64) string {
	if v < 0 {
		return "+Inf"
	}
	return fmt.Sprintf("%g s", v)
}
