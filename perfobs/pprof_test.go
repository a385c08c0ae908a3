package perfobs

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The tests that parse the profiles served run in e2e/perfobs.

// TestPprofNotOnDefaultServeMux: nothing this package links registers /debug/pprof on
// http.DefaultServeMux (as importing net/http/pprof would).
func TestPprofNotOnDefaultServeMux(t *testing.T) {
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/profile", "/debug/pprof/cmdline"} {
		_, pattern := http.DefaultServeMux.Handler(httptest.NewRequest(http.MethodGet, path, nil))
		if pattern != "" {
			t.Errorf("http.DefaultServeMux serves %s with pattern %q", path, pattern)
		}
	}
}

// The profiles go on a private listener (here a second test server); the service's own handler
// does not serve them.
func ExampleObserver_PprofHandler() {
	ctx := context.Background()
	noEnv := func(string) (string, bool) { return "", false }
	obs, err := Start(ctx, Config{Service: "checkout", LookupEnv: noEnv})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer obs.Shutdown(ctx)

	public := httptest.NewServer(obs.HTTP(http.NewServeMux()))
	defer public.Close()
	private := httptest.NewServer(obs.PprofHandler()) // in production: a listener on localhost or an admin network
	defer private.Close()

	for _, url := range []string{public.URL + "/debug/pprof/goroutine?debug=1", private.URL + "/debug/pprof/goroutine?debug=1"} {
		resp, err := http.Get(url)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		first, _, _ := strings.Cut(strings.TrimSpace(string(body)), ":")
		fmt.Println(resp.StatusCode, first)
	}
	http.DefaultClient.CloseIdleConnections()
	// Output:
	// 404 404 page not found
	// 200 goroutine profile
}
