package perfobs

import (
	"fmt"
	"html"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strconv"
	"strings"
	"time"

	pyroscopepprof "github.com/grafana/pyroscope-go/http/pprof"
)

// newPprofHandler returns the handler behind Observer.PprofHandler: Go's runtime profiles under
// /debug/pprof/, on a mux of its own.
//
// It does not use net/http/pprof: importing that package registers its handlers on
// http.DefaultServeMux as a side effect, so every service that serves DefaultServeMux (through
// http.ListenAndServe(addr, nil), for instance) would publish its profiles, command line and
// symbol table to whoever reaches its public port. Profiles reveal code paths, and a CPU profile or
// trace request makes the process do work on demand: they belong on a private listener only.
//
// Routes (GET):
//
//	/debug/pprof/                 index of the profiles
//	/debug/pprof/{name}           a named profile: allocs, block, goroutine, heap, mutex, threadcreate;
//	                              ?debug=N for text (as runtime/pprof's WriteTo), ?gc=1 runs a GC before heap
//	/debug/pprof/profile          CPU profile for ?seconds=N (default 30); works while continuous
//	                              profiling runs, through pyroscope-go's cooperating handler
//	/debug/pprof/trace            execution trace for ?seconds=N (default 1)
//	/debug/pprof/cmdline          the command line, NUL-separated
func newPprofHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/pprof/{$}", pprofIndex)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprofCmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pyroscopepprof.Profile)
	mux.HandleFunc("GET /debug/pprof/trace", pprofTrace)
	mux.HandleFunc("GET /debug/pprof/{name}", pprofNamed)
	return mux
}

func pprofIndex(w http.ResponseWriter, _ *http.Request) {
	profiles := pprof.Profiles()
	slices.SortFunc(profiles, func(a, b *pprof.Profile) int { return strings.Compare(a.Name(), b.Name()) })
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html><head><title>/debug/pprof/</title></head><body>\n<h1>/debug/pprof/</h1>\n<table>\n")
	for _, p := range profiles {
		name := html.EscapeString(p.Name())
		fmt.Fprintf(&b, "<tr><td>%d</td><td><a href=\"%s?debug=1\">%s</a></td></tr>\n", p.Count(), name, name)
	}
	b.WriteString("<tr><td></td><td><a href=\"profile?seconds=30\">profile</a> (CPU, 30 s)</td></tr>\n")
	b.WriteString("<tr><td></td><td><a href=\"trace?seconds=1\">trace</a> (1 s)</td></tr>\n")
	b.WriteString("<tr><td></td><td><a href=\"cmdline\">cmdline</a></td></tr>\n")
	b.WriteString("</table>\n</body></html>\n")
	_, _ = w.Write([]byte(b.String()))
}

func pprofCmdline(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = fmt.Fprint(w, strings.Join(os.Args, "\x00"))
}

func pprofNamed(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	p := pprof.Lookup(name)
	if p == nil {
		pprofError(w, http.StatusNotFound, fmt.Sprintf("unknown profile %q", name))
		return
	}
	debug, err := queryInt(r, "debug", 0)
	if err != nil || debug < 0 {
		pprofError(w, http.StatusBadRequest, `invalid value for "debug": want 0, 1 or 2`)
		return
	}
	if name == "heap" && r.FormValue("gc") == "1" {
		runtime.GC()
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if debug == 0 {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
	} else {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	}
	_ = p.WriteTo(w, debug)
}

func pprofTrace(w http.ResponseWriter, r *http.Request) {
	sec := 1.0
	if s := r.FormValue("seconds"); s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v <= 0 || v > 600 {
			pprofError(w, http.StatusBadRequest, `invalid value for "seconds": want a number in (0, 600]`)
			return
		}
		sec = v
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="trace"`)
	if err := trace.Start(w); err != nil {
		pprofError(w, http.StatusInternalServerError, "could not enable tracing: "+err.Error())
		return
	}
	defer trace.Stop()
	t := time.NewTimer(time.Duration(sec * float64(time.Second)))
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}

func queryInt(r *http.Request, key string, def int) (int, error) {
	s := r.FormValue(key)
	if s == "" {
		return def, nil
	}
	return strconv.Atoi(s)
}

func pprofError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Del("Content-Disposition")
	w.WriteHeader(status)
	_, _ = fmt.Fprintln(w, msg)
}
