package hotpath

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/perfobs/perfobs-go/middleware"
)

type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

// BenchmarkMiddlewareHTTP is the middleware package's benchmark of the same name, with
// ExtraPerThousand extra requests per thousand operations.
func BenchmarkMiddlewareHTTP(b *testing.B) {
	extra, err := strconv.Atoi(ExtraPerThousand)
	if err != nil || extra < 0 || extra > 1000 {
		b.Fatalf("ExtraPerThousand %q: want 0 to 1000", ExtraPerThousand)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("hello")) })
	h := middleware.HTTP(mux, middleware.WithRegisterer(prometheus.NewRegistry()))
	req := httptest.NewRequest("GET", "/users/42", nil)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.ServeHTTP(w, req)
		if i%1000 < extra {
			h.ServeHTTP(w, req)
		}
	}
}
