package middleware_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/perfobs/perfobs-go/middleware"
)

// TestWrapperKeepsExactlyTheWritersInterfaces checks all 16 combinations: the writer the handler
// sees has an optional interface if and only if the real writer has it, calls reach the real
// writer, and Unwrap returns it.
func TestWrapperKeepsExactlyTheWritersInterfaces(t *testing.T) {
	for mask, real := range fakeWriters() {
		t.Run(strings.TrimPrefix(reflect.TypeOf(real).Elem().Name(), "fake"), func(t *testing.T) {
			reg := prometheus.NewRegistry()
			var want []string
			h := middleware.HTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, isF := w.(http.Flusher)
				_, isH := w.(http.Hijacker)
				_, isR := w.(io.ReaderFrom)
				_, isP := w.(http.Pusher)
				got := []bool{isF, isH, isR, isP}
				for bit, name := range []string{"Flusher", "Hijacker", "ReaderFrom", "Pusher"} {
					if has := mask&(1<<bit) != 0; got[bit] != has {
						t.Errorf("wrapper has %s = %v, real writer has it = %v", name, got[bit], has)
					}
				}
				if _, ok := w.(io.StringWriter); !ok {
					t.Error("wrapper lacks io.StringWriter")
				}
				u, ok := w.(interface{ Unwrap() http.ResponseWriter })
				if !ok || u.Unwrap() != real {
					t.Error("Unwrap does not return the real writer")
				}
				if isF {
					w.(http.Flusher).Flush()
					want = append(want, "Flush")
				}
				if isH {
					w.(http.Hijacker).Hijack()
					want = append(want, "Hijack")
				}
				if isR {
					w.(io.ReaderFrom).ReadFrom(strings.NewReader("abc"))
					want = append(want, "ReadFrom")
				}
				if isP {
					w.(http.Pusher).Push("/style.css", nil)
					want = append(want, "Push")
				}
				io.WriteString(w, "x")
			}), middleware.WithRegisterer(reg))
			h.ServeHTTP(real, httptest.NewRequest("GET", "/", nil))
			if got := real.Calls(); !slices.Equal(got, want) {
				t.Errorf("real writer received %v, want %v", got, want)
			}
		})
	}
}

// TestResponseControllerReachesTheRealWriter runs a real server: deadlines and Flush through
// http.ResponseController must work through the wrapper.
func TestResponseControllerReachesTheRealWriter(t *testing.T) {
	reg := prometheus.NewRegistry()
	srv := httptest.NewServer(middleware.HTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("SetWriteDeadline: %v", err)
		}
		if err := rc.EnableFullDuplex(); err != nil {
			t.Errorf("EnableFullDuplex: %v", err)
		}
		io.WriteString(w, "part")
		if err := rc.Flush(); err != nil {
			t.Errorf("Flush: %v", err)
		}
	}), middleware.WithRegisterer(reg)))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	srv.Client().CloseIdleConnections()
	if string(body) != "part" {
		t.Fatalf("body %q", body)
	}
}

// TestHijackFailureIsNotAHijack: a failed Hijack must not mark the request hijacked.
func TestHijackFailureIsNotAHijack(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := middleware.HTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, _, err := w.(http.Hijacker).Hijack(); err == nil {
			t.Error("want the fake's hijack error")
		}
	}), middleware.WithRegisterer(reg), middleware.WithBodySizes())
	h.ServeHTTP(failingHijacker{httptest.NewRecorder()}, httptest.NewRequest("GET", "/", nil))
	if n := testutil.CollectAndCount(reg, "http_server_response_body_size_bytes"); n != 1 {
		t.Errorf("response size series = %d, want 1: the request was not hijacked", n)
	}
}

type failingHijacker struct{ *httptest.ResponseRecorder }

func (failingHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return nil, nil, http.ErrHijacked
}
