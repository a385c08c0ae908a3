package perfobs_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

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
