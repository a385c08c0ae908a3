package middleware_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/middleware"
)

const durationName = "http_server_request_duration_seconds"

func serve(t *testing.T, h http.Handler, method, target string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(method, target, nil))
	return w
}

func TestRouteAndStatus(t *testing.T) {
	tests := []struct {
		name                string
		pattern             string
		handler             http.HandlerFunc
		method, target      string
		route, status, errT string
	}{
		{"path parameter becomes the template", "GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {}, "GET", "/users/42", "/users/{id}", "200", ""},
		{"host and method are dropped", "GET example.com/a/{x...}", func(w http.ResponseWriter, r *http.Request) {}, "GET", "http://example.com/a/b/c", "/a/{x...}", "200", ""},
		{"trailing {$} is dropped", "GET /{$}", func(w http.ResponseWriter, r *http.Request) {}, "GET", "/", "/", "200", ""},
		{"explicit status", "POST /items", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(201) }, "POST", "/items", "/items", "201", ""},
		{"1xx is skipped for the final status", "GET /early", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(http.StatusAccepted)
		}, "GET", "/early", "/early", "202", ""},
		{"101 counts", "GET /ws", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusSwitchingProtocols) }, "GET", "/ws", "/ws", "101", ""},
		{"first status wins", "GET /twice", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNotFound)
			w.WriteHeader(http.StatusOK)
		}, "GET", "/twice", "/twice", "404", ""},
		{"write without header is 200", "GET /body", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hi") }, "GET", "/body", "/body", "200", ""},
		{"5xx sets error_type", "GET /fail", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }, "GET", "/fail", "/fail", "503", "503"},
		{"4xx is not a server error", "GET /missing", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(404) }, "GET", "/missing", "/missing", "404", ""},
		{"unmatched path", "GET /known", func(w http.ResponseWriter, r *http.Request) {}, "GET", "/nothing/here", catalog.UnmatchedRoute, "404", ""},
		{"unknown method is _OTHER", "/any", func(w http.ResponseWriter, r *http.Request) {}, "BREW", "/any", "/any", "200", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			mux := http.NewServeMux()
			mux.Handle(tt.pattern, tt.handler)
			h := middleware.HTTP(mux, middleware.WithRegisterer(reg))
			serve(t, h, tt.method, tt.target)
			method := tt.method
			if method == "BREW" {
				method = "_OTHER"
			}
			got := gather(t, reg, durationName)
			want := key(method, tt.route, tt.status, "http", tt.errT)
			if s, ok := got[want]; !ok || s.count != 1 {
				t.Fatalf("want one observation in {%s}; got %v", want, keys(got))
			}
			if len(got) != 1 {
				t.Fatalf("want exactly one series, got %v", keys(got))
			}
		})
	}
}

func TestPanicIsRecordedAndRepanics(t *testing.T) {
	tests := []struct {
		name    string
		value   any
		before  int // status written before the panic, 0 for none
		status  string
		errType string
	}{
		{"plain panic", "boom", 0, "500", catalog.ErrorPanic},
		{"panic after a header", errors.New("late"), 202, "202", catalog.ErrorPanic},
		{"ErrAbortHandler", http.ErrAbortHandler, 0, "500", catalog.ErrorAborted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			mux := http.NewServeMux()
			mux.HandleFunc("GET /p", func(w http.ResponseWriter, r *http.Request) {
				if tt.before != 0 {
					w.WriteHeader(tt.before)
				}
				time.Sleep(2 * time.Millisecond)
				panic(tt.value)
			})
			h := middleware.HTTP(mux, middleware.WithRegisterer(reg))
			func() {
				defer func() {
					if got := recover(); got != tt.value {
						t.Errorf("recovered %v, want the handler's panic %v", got, tt.value)
					}
				}()
				serve(t, h, "GET", "/p")
			}()
			got := gather(t, reg, durationName)
			s, ok := got[key("GET", "/p", tt.status, "http", tt.errType)]
			if !ok || s.count != 1 {
				t.Fatalf("series %v", keys(got))
			}
			if s.sum < 0.002 {
				t.Errorf("duration %v s, want at least the 2 ms the handler slept", s.sum)
			}
			active := gather(t, reg, "http_server_active_requests")
			for k, s := range active {
				if s.value != 0 {
					t.Errorf("active requests %s = %v after the panic, want 0", k, s.value)
				}
			}
		})
	}
}

func TestRealServerPanicAndHijack(t *testing.T) {
	reg := prometheus.NewRegistry()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /abort", func(w http.ResponseWriter, r *http.Request) { panic(http.ErrAbortHandler) })
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack through ResponseController: %v", err)
			return
		}
		buf.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n")
		buf.Flush()
		conn.Close()
	})
	srv := httptest.NewUnstartedServer(middleware.HTTP(mux, middleware.WithRegisterer(reg), middleware.WithBodySizes()))
	srv.Config.ErrorLog = nil
	srv.Start()
	defer srv.Close()
	client := srv.Client()
	defer client.CloseIdleConnections()

	if _, err := client.Get(srv.URL + "/abort"); err == nil {
		t.Fatal("an aborted handler must break the connection")
	}
	resp, err := client.Get(srv.URL + "/ws")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 101 {
		t.Fatalf("status %d, want 101 written on the hijacked connection", resp.StatusCode)
	}
	// The client can read the response before the handler returns and is recorded: wait for it.
	wants := []string{key("GET", "/abort", "500", "http", "aborted"), key("GET", "/ws", "", "http", "")}
	got := gather(t, reg, durationName)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		if got[wants[0]].count == 1 && got[wants[1]].count == 1 {
			break
		}
		time.Sleep(10 * time.Millisecond)
		got = gather(t, reg, durationName)
	}
	for _, want := range wants {
		if got[want].count != 1 {
			t.Errorf("missing %s in %v", want, keys(got))
		}
	}
	if n := testutil.CollectAndCount(reg, "http_server_response_body_size_bytes"); n != 1 {
		t.Errorf("response sizes: %d series, want only the aborted request's (hijacked bodies are not counted)", n)
	}
}

// TestRouteWhenRequestIsCopied covers a request copied before the mux (an inner r.WithContext):
// r.Pattern stays empty on the middleware's copy.
// copyKey is a context key of the tests: a value under it makes the request a copy.
type copyKey struct{}

func TestRouteWhenRequestIsCopied(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {})
	copying := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), copyKey{}, 1)))
	})
	tests := []struct {
		name    string
		handler http.Handler
		opts    []middleware.Option
		route   string
	}{
		{"without help the route is unknown", copying, nil, catalog.UnmatchedRoute},
		{"WithServeMux asks the mux", copying, []middleware.Option{middleware.WithServeMux(mux)}, "/orders/{id}"},
		{"SetRoute from inside wins", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			middleware.SetRoute(w, "/set/{by}")
			copying.ServeHTTP(w, r)
		}), []middleware.Option{middleware.WithServeMux(mux)}, "/set/{by}"},
		{"route function", copying, []middleware.Option{middleware.WithRouteFunc(func(r *http.Request) string { return "/from/func" })}, "/from/func"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			h := middleware.HTTP(tt.handler, append(tt.opts, middleware.WithRegisterer(reg))...)
			serve(t, h, "GET", "/orders/7")
			got := gather(t, reg, durationName)
			if got[key("GET", tt.route, "200", "http", "")].count != 1 {
				t.Fatalf("want route %q, got %v", tt.route, keys(got))
			}
		})
	}
}

func TestSetRouteThroughOtherWrappers(t *testing.T) {
	reg := prometheus.NewRegistry()
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !middleware.SetRoute(w, "/deep") {
			t.Error("SetRoute did not find the middleware's writer")
		}
	})
	// Another middleware between ours and the handler wraps the writer and offers Unwrap.
	outer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner.ServeHTTP(&unwrapper{ResponseWriter: w}, r)
	})
	serve(t, middleware.HTTP(outer, middleware.WithRegisterer(reg)), "GET", "/x")
	if got := gather(t, reg, durationName); got[key("GET", "/deep", "200", "http", "")].count != 1 {
		t.Fatalf("got %v", keys(got))
	}
	if middleware.SetRoute(httptest.NewRecorder(), "/x") {
		t.Error("SetRoute reported success on a writer without the middleware")
	}
}

type unwrapper struct{ http.ResponseWriter }

func (u *unwrapper) Unwrap() http.ResponseWriter { return u.ResponseWriter }

// TestCardinalityAttack sends tens of thousands of random paths and methods: the series count of
// every metric stays at what the routes allow.
func TestCardinalityAttack(t *testing.T) {
	reg := prometheus.NewRegistry()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("POST /users", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(201) })
	h := middleware.HTTP(mux, middleware.WithRegisterer(reg), middleware.WithBodySizes())
	rng := rand.New(rand.NewPCG(1, 2))
	methods := []string{"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "CONNECT", "FOO", "BAR%s", "X-%d"}
	for i := 0; i < 30000; i++ {
		m := methods[rng.IntN(len(methods))]
		if strings.Contains(m, "%") {
			m = strings.NewReplacer("%s", "Q", "%d", "7").Replace(m) + string(rune('A'+rng.IntN(26)))
		}
		path := "/users/" + randomSegment(rng)
		if rng.IntN(3) == 0 {
			path = "/" + randomSegment(rng) + "/" + randomSegment(rng)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(m, path, nil))
	}
	// Routes: /users/{id} (200, 405 for other methods is unmatched), /users, and _unmatched.
	// Methods: 9 known + _OTHER. Statuses per route are fixed by the mux. The bound below is
	// what the routes allow: 3 routes x 10 methods x 3 statuses.
	const bound = 3 * 10 * 3
	for _, name := range []string{durationName, "http_server_request_body_size_bytes", "http_server_response_body_size_bytes"} {
		got := gather(t, reg, name)
		if len(got) == 0 || len(got) > bound {
			t.Errorf("%s: %d series, want 1..%d", name, len(got), bound)
		}
		for k, s := range got {
			if r := s.labels["http_route"]; r != "/users/{id}" && r != "/users" && r != catalog.UnmatchedRoute {
				t.Errorf("%s: unexpected route in %s", name, k)
			}
		}
	}
	if n := testutil.CollectAndCount(reg, "http_server_active_requests"); n > 20 {
		t.Errorf("active requests: %d series, want at most 10 methods x 2 schemes", n)
	}
}

func randomSegment(rng *rand.Rand) string {
	b := make([]byte, 1+rng.IntN(12))
	for i := range b {
		b[i] = "abcdefghijklmnopqrstuvwxyz0123456789-_"[rng.IntN(38)]
	}
	return string(b)
}

func TestRouteCapCollapsesAndSaysSo(t *testing.T) {
	reg := prometheus.NewRegistry()
	var logs bytes.Buffer
	h := middleware.HTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}),
		middleware.WithRegisterer(reg),
		middleware.WithLabelCap(5),
		middleware.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))),
		middleware.WithRouteFunc(func(r *http.Request) string { return r.URL.Path }), // a careless route function
	)
	for i := 0; i < 1000; i++ {
		serve(t, h, "GET", "/item/"+strconv.Itoa(i))
	}
	got := gather(t, reg, durationName)
	if len(got) != 6 {
		t.Errorf("%d series, want 5 routes + _OTHER: %v", len(got), keys(got))
	}
	other := got[key("GET", "_OTHER", "200", "http", "")]
	if other.count != 995 {
		t.Errorf("_OTHER has %d requests, want 995", other.count)
	}
	const overflow = `# HELP perfobs_label_overflow_total Label values collapsed into _OTHER by a cardinality cap.
# TYPE perfobs_label_overflow_total counter
perfobs_label_overflow_total{label="http_route",metric="http_server_request_duration_seconds"} 995
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(overflow), catalog.LabelOverflow); err != nil {
		t.Errorf("overflow counter: %v", err)
	}
	if n := strings.Count(logs.String(), "label cap reached"); n != 1 {
		t.Errorf("%d log lines within 10 s, want 1 (rate-limited): %s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "http_route") {
		t.Errorf("log line does not name the label: %s", logs.String())
	}
}

func TestSkipPaths(t *testing.T) {
	reg := prometheus.NewRegistry()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /work", func(w http.ResponseWriter, r *http.Request) {})
	h := middleware.HTTP(mux, middleware.WithRegisterer(reg), middleware.WithSkipPaths("/healthz"),
		middleware.WithSkip(func(r *http.Request) bool { return r.Header.Get("X-Probe") != "" }))
	serve(t, h, "GET", "/healthz")
	req := httptest.NewRequest("GET", "/work", nil)
	req.Header.Set("X-Probe", "1")
	h.ServeHTTP(httptest.NewRecorder(), req)
	serve(t, h, "GET", "/work")
	got := gather(t, reg, durationName)
	if len(got) != 1 || got[key("GET", "/work", "200", "http", "")].count != 1 {
		t.Fatalf("want only the one unskipped /work request, got %v", keys(got))
	}
}

func TestBodySizes(t *testing.T) {
	reg := prometheus.NewRegistry()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Write(b)
		w.Write(b)
	})
	h := middleware.HTTP(mux, middleware.WithRegisterer(reg), middleware.WithBodySizes())
	// One request with a Content-Length, one streamed without.
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/echo", strings.NewReader("12345")))
	req := httptest.NewRequest("POST", "/echo", io.NopCloser(strings.NewReader("1234567")))
	req.ContentLength = -1
	h.ServeHTTP(httptest.NewRecorder(), req)
	k := key("POST", "/echo", "200", "http", "")
	if s := gather(t, reg, "http_server_request_body_size_bytes")[k]; s.count != 2 || s.sum != 12 {
		t.Errorf("request sizes count=%d sum=%v, want 2 and 5+7", s.count, s.sum)
	}
	if s := gather(t, reg, "http_server_response_body_size_bytes")[k]; s.count != 2 || s.sum != 24 {
		t.Errorf("response sizes count=%d sum=%v, want 2 and 10+14", s.count, s.sum)
	}
}

func TestActiveRequests(t *testing.T) {
	reg := prometheus.NewRegistry()
	inside := make(chan struct{})
	release := make(chan struct{})
	h := middleware.HTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inside <- struct{}{}
		<-release
	}), middleware.WithRegisterer(reg))
	done := make(chan struct{})
	for i := 0; i < 3; i++ {
		go func() {
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("PUT", "/", nil))
			done <- struct{}{}
		}()
		<-inside
	}
	if v := gather(t, reg, "http_server_active_requests")["http_request_method=PUT,url_scheme=http"].value; v != 3 {
		t.Errorf("active = %v while 3 requests are inside, want 3", v)
	}
	close(release)
	for i := 0; i < 3; i++ {
		<-done
	}
	if v := gather(t, reg, "http_server_active_requests")["http_request_method=PUT,url_scheme=http"].value; v != 0 {
		t.Errorf("active = %v after they returned, want 0", v)
	}
}

func TestHTTPSScheme(t *testing.T) {
	reg := prometheus.NewRegistry()
	srv := httptest.NewTLSServer(middleware.HTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), middleware.WithRegisterer(reg)))
	defer srv.Close()
	c := srv.Client()
	defer c.CloseIdleConnections()
	resp, err := c.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := gather(t, reg, durationName); got[key("GET", catalog.UnmatchedRoute, "200", "https", "")].count != 1 {
		t.Fatalf("got %v", keys(got))
	}
}

func TestNewRejectsInvalidOptions(t *testing.T) {
	tests := []struct {
		name string
		opts []middleware.Option
		want string
	}{
		{"unsorted buckets", []middleware.Option{middleware.WithDurationBuckets(0.1, 0.05)}, "WithDurationBuckets: bound 0.05 at index 1"},
		{"empty buckets", []middleware.Option{middleware.WithDurationBuckets()}, "WithDurationBuckets: need at least one"},
		{"negative bucket", []middleware.Option{middleware.WithDurationBuckets(-1)}, "bound -1 at index 0"},
		{"size buckets without body sizes", []middleware.Option{middleware.WithSizeBuckets(10, 20)}, "add WithBodySizes()"},
		{"zero cap", []middleware.Option{middleware.WithLabelCap(0)}, "WithLabelCap: cap 0"},
		{"nil registerer", []middleware.Option{middleware.WithRegisterer(nil)}, "WithRegisterer: registerer is nil"},
		{"nil route func", []middleware.Option{middleware.WithRouteFunc(nil)}, "WithRouteFunc: function is nil"},
		{"nil option", []middleware.Option{nil}, "option 1 is nil"},
		{"gRPC-only option", []middleware.Option{middleware.WithMethodFilter(func(string) bool { return true })}, "WithMethodFilter applies to the gRPC interceptors (package grpcmw), not to middleware.New"},
		{"gRPC message sizes", []middleware.Option{middleware.WithMessageSizeBuckets(10, 20)}, "WithMessageSizeBuckets applies to the gRPC interceptors"},
		{"nil recorder", []middleware.Option{(*middleware.Recorder)(nil)}, "option 1 is nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := middleware.New(append([]middleware.Option{middleware.WithRegisterer(prometheus.NewRegistry())}, tt.opts...)...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
	defer func() {
		if recover() == nil {
			t.Error("HTTP with invalid options must panic at construction")
		}
	}()
	middleware.HTTP(http.NotFoundHandler(), middleware.WithLabelCap(-1))
}

// TestMisplacedOptions: server-only options are refused by Transport, and a Recorder passed with
// other options is refused, each error naming the option.
func TestMisplacedOptions(t *testing.T) {
	for _, tt := range []struct {
		name  string
		build func()
		want  string
	}{
		{"server option to Transport", func() { middleware.Transport(nil, middleware.WithSkipPaths("/healthz")) },
			"middleware.Transport: invalid middleware options: WithSkipPaths applies to the HTTP middleware (middleware.HTTP), not to middleware.Transport"},
		{"gRPC option to HTTP", func() {
			middleware.HTTP(http.NotFoundHandler(), middleware.WithMethodFilter(func(string) bool { return true }))
		},
			"middleware.HTTP: invalid middleware options: WithMethodFilter applies to the gRPC interceptors (package grpcmw), not to middleware.HTTP"},
		{"recorder with options", func() {
			rec, err := middleware.New(middleware.WithRegisterer(prometheus.NewRegistry()))
			if err != nil {
				panic(err)
			}
			middleware.HTTP(http.NotFoundHandler(), rec, middleware.WithLabelCap(3))
		}, "*middleware.Recorder carries its options already: pass it alone"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := func() (p any) {
				defer func() { p = recover() }()
				tt.build()
				return nil
			}()
			if s, _ := p.(string); !strings.Contains(s, tt.want) {
				t.Fatalf("panic %v, want one containing %q", p, tt.want)
			}
		})
	}
}

// TestRecorderBuildsHandlerAndTransport: New's Recorder, passed alone, builds both sides on its
// registry.
func TestRecorderBuildsHandlerAndTransport(t *testing.T) {
	reg := prometheus.NewRegistry()
	rec, err := middleware.New(middleware.WithRegisterer(reg), middleware.WithSkipPaths("/healthz"))
	if err != nil {
		t.Fatal(err)
	}
	h := middleware.HTTP(http.NotFoundHandler(), rec)
	serve(t, h, "GET", "/healthz")
	serve(t, h, "GET", "/x")
	if n := testutil.CollectAndCount(reg, durationName); n != 1 {
		t.Fatalf("%s has %d series, want 1 (the skipped path is not recorded)", durationName, n)
	}
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	c := &http.Client{Transport: middleware.Transport(nil, rec)}
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	c.CloseIdleConnections()
	if n := testutil.CollectAndCount(reg, catalog.HTTPClientDuration); n != 1 {
		t.Fatalf("%s has %d series, want 1", catalog.HTTPClientDuration, n)
	}
}

func TestTwiceOnOneRegistryShares(t *testing.T) {
	reg := prometheus.NewRegistry()
	a := middleware.HTTP(http.NotFoundHandler(), middleware.WithRegisterer(reg))
	b := middleware.HTTP(http.NotFoundHandler(), middleware.WithRegisterer(reg))
	serve(t, a, "GET", "/")
	serve(t, b, "GET", "/")
	if got := gather(t, reg, durationName); got[key("GET", catalog.UnmatchedRoute, "404", "http", "")].count != 2 {
		t.Fatalf("want both middlewares in one series, got %v", got)
	}
	_, err := middleware.New(middleware.WithRegisterer(reg), middleware.WithDurationBuckets(1, 2))
	if err == nil || !strings.Contains(err.Error(), "WithDurationBuckets: registry already has") {
		t.Fatalf("conflicting buckets: error %v", err)
	}
	_, err = middleware.New(middleware.WithRegisterer(reg), middleware.WithBodySizes())
	if err == nil || !strings.Contains(err.Error(), "WithBodySizes") {
		t.Fatalf("conflicting body sizes: error %v", err)
	}
}

func TestDefaultRegisterer(t *testing.T) {
	k := key("DELETE", catalog.UnmatchedRoute, "404", "http", "")
	before := gather(t, prometheus.DefaultGatherer, durationName)[k].count // -count=N reuses the global registry
	h := middleware.HTTP(http.NotFoundHandler())
	serve(t, h, "DELETE", "/default")
	got := gather(t, prometheus.DefaultGatherer, durationName)
	if got[k].count != before+1 {
		t.Fatalf("standalone middleware must use prometheus.DefaultRegisterer; got %v", keys(got))
	}
}
