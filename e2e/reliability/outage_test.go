//go:build reliability

package reliability

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/perfobs/perfobs-go/internal/deadend"
	"github.com/perfobs/perfobs-go/leaktest"
	"github.com/perfobs/perfobs-go/perfobs"
)

// phase is one run of the outage test: the service under constant load with profiling pointed at
// one kind of server.
type phase struct {
	name      string
	latencies []time.Duration
	failed    int64
	heapGrown int64
	drops     float64 // the value of a perfobs_*dropped_total family, -1 when there is none
	logLines  int
}

func (p phase) p99() time.Duration {
	s := slices.Clone(p.latencies)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)*99/100]
}

// runPhase starts an Observer profiling to addr every 200 ms, serves -rate requests per second
// for -outage, and measures the requests' latency and the live heap's growth.
func runPhase(t *testing.T, name, addr string) phase {
	t.Helper()
	var logs lockedBuffer
	base := liveHeap()
	obs, err := perfobs.Start(context.Background(), perfobs.Config{Service: "outage", LookupEnv: noEnv,
		Logger:    slog.New(slog.NewTextHandler(&logs, nil)),
		Profiling: perfobs.ProfilingConfig{ServerAddress: addr, UploadRate: 200 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	page := strings.Repeat("x", 1024)
	mux.HandleFunc("GET /page/{id}", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, page) })
	srv := httptest.NewServer(obs.HTTP(mux))
	defer srv.Close()
	client := srv.Client()
	defer client.CloseIdleConnections()

	p := phase{name: name, drops: -1}
	var mu sync.Mutex
	var failed atomic.Int64
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / time.Duration(*flagRate))
	end := time.After(*flagOutage)
	for i := 0; ; i++ {
		select {
		case <-tick.C:
		case <-end:
			tick.Stop()
			wg.Wait()
			goto done
		}
		wg.Add(1)
		go func() { // an open model: a slow answer does not slow the arrivals
			defer wg.Done()
			start := time.Now()
			resp, err := client.Get(fmt.Sprintf("%s/page/%d", srv.URL, i))
			if err == nil {
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			d := time.Since(start)
			if err != nil || resp.StatusCode != http.StatusOK {
				failed.Add(1)
				return
			}
			mu.Lock()
			p.latencies = append(p.latencies, d)
			mu.Unlock()
		}()
	}
done:
	p.failed = failed.Load()
	p.heapGrown = int64(liveHeap()) - int64(base)
	mfs, _ := obs.Gatherer().Gather()
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), "perfobs_") && strings.HasSuffix(mf.GetName(), "dropped_total") {
			p.drops = 0
			for _, m := range mf.GetMetric() {
				p.drops += m.GetCounter().GetValue()
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = obs.Shutdown(ctx) // a context error when the server is down: TestShutdownBoundedWhenBackendsHang checks that
	p.logLines = strings.Count(logs.String(), "\n")
	t.Logf("%-11s %5d requests, %d failed, p99 %8v, live heap %+8d B, drops metric %v, %d log lines",
		name, len(p.latencies), p.failed, p.p99(), p.heapGrown, p.drops, p.logLines)
	return p
}

// outage runs the healthy, refused, black-holed and healthy-again phases and checks what the
// service felt, and that the dropped profiles are counted in a metric.
func outage(t *testing.T) {
	leaktest.Check(t, leaktest.WithTimeout(15*time.Second))
	healthy := newIngest(t)
	hole := deadend.NewBlackHole(t)
	phases := []phase{
		runPhase(t, "healthy", healthy.URL),
		runPhase(t, "refused", "http://"+deadend.Refused(t)),
		runPhase(t, "black-holed", "http://"+hole.Addr()),
		runPhase(t, "healthy", healthy.URL),
	}
	h1, refused, holed, h2 := phases[0], phases[1], phases[2], phases[3]
	if healthy.uploads.Load() == 0 {
		t.Fatal("the healthy ingest server received nothing: profiling did not run")
	}
	noise := max(h1.p99(), h2.p99())
	// The upload queue holds 16 profiles and two more are in flight; a profile of this small
	// service is well under 64 KiB. 2 MiB is that with room to spare.
	const queueBound = 2 << 20
	healthyGrowth := max(h1.heapGrown, h2.heapGrown)
	for _, p := range phases {
		if p.failed != 0 {
			t.Errorf("%s: %d requests failed", p.name, p.failed)
		}
	}
	for _, p := range []phase{refused, holed} {
		// Three times the worse healthy p99 plus 5 ms: on a shared 2-core runner under -race, phases
		// of a few seconds vary that much with no outage at all (a tighter twice-plus-2-ms bound
		// failed once with a healthy rerun). An outage that blocked requests would cost seconds.
		if limit := 3*noise + 5*time.Millisecond; p.p99() > limit {
			t.Errorf("%s: p99 %v, above three times the healthy p99 (%v) plus 5 ms", p.name, p.p99(), noise)
		}
		if p.heapGrown > healthyGrowth+queueBound {
			t.Errorf("%s: live heap grew %d B, healthy %d B: more than the upload queue can hold", p.name, p.heapGrown, healthyGrowth)
		}
		// The logger is rate-limited to a line a minute per kind of error.
		if p.logLines > 4 {
			t.Errorf("%s: %d log lines in %v, want the rate-limited few", p.name, p.logLines, *flagOutage)
		}
		if p.drops <= 0 {
			t.Errorf("%s: no perfobs_*_dropped_total metric counts the dropped profiles (value %v)", p.name, p.drops)
		}
	}
}

// TestProfilingOutageUnderLoad serves constant open-model load for -outage per phase while
// profiling points at a healthy ingest server, then a refused port, then a server that accepts
// and never answers, then the healthy one again. An outage costs no failed request, no p99 beyond
// the healthy noise, no heap beyond the upload queue, and only rate-limited log lines; and the
// profiles the outage dropped are counted in a perfobs_*_dropped_total metric, as the issue asks
// (this was TestProfilingOutageCountsDrops, folded in so that the phases run once).
func TestProfilingOutageUnderLoad(t *testing.T) { outage(t) }
