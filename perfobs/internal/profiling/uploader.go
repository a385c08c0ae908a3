package profiling

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/grafana/pyroscope-go/upstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/perfobs/perfobs-go/catalog"
)

// uploader implements pyroscope-go's upstream.Upstream: it posts profiles to Pyroscope's /ingest
// endpoint from a bounded queue, with its own HTTP client, and drains, cancels and closes its
// connections on close.
type uploader struct {
	base      *url.URL
	cfg       Config
	log       *logger
	transport *http.Transport
	client    *http.Client

	ctx    context.Context // cancelled by abort: stops in-flight and queued uploads
	cancel context.CancelFunc

	mu     sync.Mutex // guards closed and sending on jobs
	closed bool
	jobs   chan *upstream.UploadJob
	wg     sync.WaitGroup

	// dropped counts the profiles not uploaded, by reason (catalog.ProfilingDropped); the Observer
	// registers it. queueFull, uploadError and shutdown are its children.
	dropped                          *prometheus.CounterVec
	queueFull, uploadError, shutdown prometheus.Counter

	// What the status page shows.
	uploads    atomic.Uint64
	lastUpload atomic.Int64 // unix nanoseconds of the last successful upload; 0: none
	errMu      sync.Mutex
	lastErr    string
	lastErrAt  time.Time
}

func newUploader(base *url.URL, cfg Config, log *logger) *uploader {
	client, tr := newHTTPClient(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	dropped := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: catalog.ProfilingDropped,
		Help: helpOf(catalog.ProfilingDropped),
	}, []string{catalog.LabelReason})
	return &uploader{
		base:      base,
		cfg:       cfg,
		log:       log,
		transport: tr,
		client:    client,
		ctx:       ctx,
		cancel:    cancel,
		jobs:      make(chan *upstream.UploadJob, uploadQueueLength),

		dropped:     dropped,
		queueFull:   dropped.WithLabelValues(catalog.ReasonQueueFull),
		uploadError: dropped.WithLabelValues(catalog.ReasonUploadError),
		shutdown:    dropped.WithLabelValues(catalog.ReasonShutdown),
	}
}

func (u *uploader) start() {
	u.wg.Add(uploadWorkers)
	for range uploadWorkers {
		go u.work()
	}
}

// Upload queues a profile, or drops it (counted) when the queue is full or the uploader closed.
// It never blocks.
func (u *uploader) Upload(j *upstream.UploadJob) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed {
		u.shutdown.Inc()
		return
	}
	select {
	case u.jobs <- j:
	default:
		u.queueFull.Inc()
		u.log.error("upload queue full, profile dropped", errors.New("pyroscope server too slow or unreachable"))
	}
}

// Flush is part of upstream.Upstream; pyroscope-go calls it only from Profiler.Flush, which perfobs
// does not use. close drains the queue instead.
func (u *uploader) Flush() {}

func (u *uploader) work() {
	defer u.wg.Done()
	for j := range u.jobs {
		if u.ctx.Err() != nil {
			u.shutdown.Inc() // aborted: drop what is left
			continue
		}
		if err := u.post(j); err != nil {
			if u.ctx.Err() != nil {
				u.shutdown.Inc() // cancelled in flight by close or abort
				continue
			}
			u.uploadError.Inc()
			u.log.error("upload", err)
			u.errMu.Lock()
			u.lastErr, u.lastErrAt = err.Error(), time.Now()
			u.errMu.Unlock()
			continue
		}
		u.uploads.Add(1)
		u.lastUpload.Store(time.Now().UnixNano())
	}
}

// close stops accepting profiles, waits for the queue to drain until ctx is done, then cancels
// what is left, and closes idle connections.
func (u *uploader) close(ctx context.Context) error {
	u.mu.Lock()
	if !u.closed {
		u.closed = true
		close(u.jobs)
	}
	u.mu.Unlock()
	done := make(chan struct{})
	go func() { u.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		left := len(u.jobs)
		u.cancel()
		select {
		case <-done:
		case <-time.After(shutdownGrace):
		}
		err = fmt.Errorf("%d queued profiles not uploaded: %w", left, ctx.Err())
	}
	u.cancel()
	u.transport.CloseIdleConnections()
	return err
}

// abort cancels in-flight and queued uploads and closes the queue.
func (u *uploader) abort() {
	u.cancel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = u.close(ctx)
}
