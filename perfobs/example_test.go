package perfobs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"

	"github.com/perfobs/perfobs-go/perfobs"
)

func Example() {
	ctx := context.Background()
	obs, err := perfobs.Start(ctx, perfobs.Config{Service: "checkout", Version: "1.4.2"})
	if err != nil {
		panic(err)
	}
	defer obs.Shutdown(ctx)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	mux.Handle("GET /metrics", obs.MetricsHandler())
	srv := httptest.NewServer(obs.HTTP(mux))
	defer srv.Close()
	defer srv.Client().CloseIdleConnections()

	for _, id := range []string{"1", "2", "3"} {
		if resp, err := srv.Client().Get(srv.URL + "/orders/" + id); err == nil {
			resp.Body.Close()
		}
	}
	resp, err := srv.Client().Get(srv.URL + "/metrics")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "http_server_request_duration_seconds_count") {
			fmt.Println(line)
		}
	}
	// Output:
	// http_server_request_duration_seconds_count{error_type="",http_request_method="GET",http_response_status_code="200",http_route="/orders/{id}",url_scheme="http"} 3
}

// Profiling starts when Config.Profiling.ServerAddress (or PYROSCOPE_SERVER_ADDRESS) is set;
// Shutdown uploads the last interval of each profile type. Here a test server stands in for
// Pyroscope and prints the scope of each upload (e2e/perfobs decodes the profiles themselves).
func ExampleProfilingConfig() {
	var mu sync.Mutex
	var got []string
	ingest := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Query().Get("name")
		service, _, _ := strings.Cut(name, "{")
		_, scope, _ := strings.Cut(name, "otel.scope.name=")
		scope, _, _ = strings.Cut(scope, ",")
		mu.Lock()
		got = append(got, service+": "+strings.TrimSuffix(scope, "}")+" "+r.URL.Query().Get("units"))
		mu.Unlock()
	}))
	defer ingest.Close()

	ctx := context.Background()
	obs, err := perfobs.Start(ctx, perfobs.Config{
		Service: "checkout", Version: "1.4.2", Environment: "production",
		LookupEnv: func(string) (string, bool) { return "", false },
		Profiling: perfobs.ProfilingConfig{ServerAddress: ingest.URL},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := obs.Shutdown(ctx); err != nil {
		fmt.Println(err)
	}
	slices.Sort(got)
	for _, g := range got {
		fmt.Println(g)
	}
	// Output:
	// checkout: com.grafana.pyroscope/go goroutines
	// checkout: com.grafana.pyroscope/go samples
	// checkout: com.grafana.pyroscope/godeltaprof
}

// The status page, pprof and the JSON API go on a private listener (here a second test server);
// the service's own handler serves none of them.
func ExampleObserver_DebugHandler() {
	ctx := context.Background()
	obs, err := perfobs.Start(ctx, perfobs.Config{Service: "checkout", DisableRuntimeMetrics: true,
		LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer obs.Shutdown(ctx)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "{}") })
	public := httptest.NewServer(obs.HTTP(mux))
	defer public.Close()
	private := httptest.NewServer(obs.DebugHandler()) // in production: localhost or an admin network
	defer private.Close()

	for range 3 {
		resp, err := http.Get(public.URL + "/users/7")
		if err != nil {
			fmt.Println(err)
			return
		}
		resp.Body.Close()
	}
	resp, err := http.Get(private.URL + "/debug/perfobs/api/red")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var red struct {
		Rows []struct {
			Name    string
			Windows map[string]struct{ Requests uint64 }
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&red); err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range red.Rows {
		fmt.Printf("%s: %d requests in the last minute\n", r.Name, r.Windows["1m"].Requests)
	}
	http.DefaultClient.CloseIdleConnections()
	// Output: GET /users/{id}: 3 requests in the last minute
}
