package loadtest

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/perfobs/perfobs-go/leaktest"
)

// serverEnv makes the test binary a loopback service of known behaviour instead of running
// tests (see startProcess): "leak" leaks one goroutine every 100 requests, "clean" does not.
const serverEnv = "PERFOBS_LOADTEST_SERVER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(serverEnv); mode != "" {
		serve(mode)
		return
	}
	flag.Parse()
	leaktest.VerifyTestMain(m)
}

// serve runs the service of a soak test in its own process, so that its runtime series are
// its own and not the load generator's. It prints its address and serves until killed.
func serve(mode string) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(collectors.MetricsGC)),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	block := make(chan struct{})
	var count atomic.Int64
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		n := count.Add(1)
		if mode == "leak" && n%100 == 0 {
			go func() { <-block }() // never returns: the leak under test
		}
		w.Write([]byte("ok " + strconv.FormatInt(n, 10)))
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String())
	_ = http.Serve(ln, mux)
}
