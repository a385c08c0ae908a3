package perfobs

import "net/http"

// flightRecorderHandler serves the flight-recorder snapshots for DebugHandler, which mounts it at
// /debug/perfobs/api/traces (the JSON list of snapshots) and /debug/perfobs/traces/ (the files).
//
// Placeholder until the flight recorder (issue 15) fills it: an empty JSON list, and no files.
func (o *Observer) flightRecorderHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/debug/perfobs/api/traces" {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-Content-Type-Options", "nosniff")
			_, _ = w.Write([]byte("[]\n"))
			return
		}
		http.NotFound(w, r)
	})
}
