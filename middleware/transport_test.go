package middleware_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/perfobs/perfobs-go/middleware"
)

const clientName = "http_client_request_duration_seconds"

func clientKey(method, host, port, status, errType string) string {
	return "error_type=" + errType + ",http_request_method=" + method + ",http_response_status_code=" + status +
		",server_address=" + host + ",server_port=" + port
}

func TestTransportRecordsStatusAndErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/missing":
			w.WriteHeader(404)
		case "/broken":
			w.WriteHeader(502)
		case "/slow":
			time.Sleep(200 * time.Millisecond)
		}
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	// A port that refuses connections.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	_, closedPort, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()

	reg := prometheus.NewRegistry()
	client := &http.Client{Transport: middleware.Transport(nil, middleware.WithRegisterer(reg))}
	defer client.CloseIdleConnections()
	get := func(url string, timeout time.Duration) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	get(srv.URL+"/ok", time.Second)
	get(srv.URL+"/missing", time.Second)
	get(srv.URL+"/broken", time.Second)
	get(srv.URL+"/slow", 20*time.Millisecond)
	get("http://127.0.0.1:"+closedPort+"/", time.Second)

	got := gather(t, reg, clientName)
	for _, want := range []string{
		clientKey("GET", "127.0.0.1", port, "200", ""),
		clientKey("GET", "127.0.0.1", port, "404", "404"),
		clientKey("GET", "127.0.0.1", port, "502", "502"),
		clientKey("GET", "127.0.0.1", port, "", "timeout"),
		clientKey("GET", "127.0.0.1", closedPort, "", "connection"),
	} {
		if got[want].count != 1 {
			t.Errorf("missing {%s}; have %v", want, keys(got))
		}
	}
	if len(got) != 5 {
		t.Errorf("%d series, want 5: %v", len(got), keys(got))
	}
}

func TestTransportCapsServerAddress(t *testing.T) {
	reg := prometheus.NewRegistry()
	rt := middleware.Transport(roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return nil, errors.New("offline")
	}), middleware.WithRegisterer(reg), middleware.WithLabelCap(3),
		middleware.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	for i := 0; i < 100; i++ {
		req, _ := http.NewRequest("POST", "https://host"+strconv.Itoa(i)+".example/", nil)
		rt.RoundTrip(req)
	}
	got := gather(t, reg, clientName)
	if len(got) != 4 {
		t.Fatalf("%d series, want 3 hosts + _OTHER: %v", len(got), keys(got))
	}
	if s := got[clientKey("POST", "_OTHER", "_OTHER", "", "_OTHER")]; s.count != 97 {
		t.Fatalf("_OTHER count %d, want 97: %v", s.count, keys(got))
	}
	if s := got[clientKey("POST", "host0.example", "443", "", "_OTHER")]; s.count != 1 {
		t.Fatalf("default https port: %v", keys(got))
	}
}
