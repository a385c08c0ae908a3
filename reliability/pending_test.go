//go:build pending

package reliability

import (
	"context"
	"testing"
	"time"

	"github.com/perfobs/perfobs-go/leaktest"
	"github.com/perfobs/perfobs-go/perfobs"
)

// Tests of promises the SDK does not keep yet. They fail today; run them with
// go test -tags pending ./reliability (add ",reliability" for the long sizes). Move each into the
// normal suite when its fix lands.

// TestSDKClosesItsConnectionsOnShutdown is TestSDKLeaksNothing with the leak check made while the
// backends still serve: a keep-alive connection the SDK leaves open to one of them (its
// goroutines end only when the backend hangs up) is a leak too.
//
// Fails today: the OTLP metrics push (otlpmetrichttp v1.47.0) keeps its idle connections after
// Shutdown; its client's Shutdown drops the http.Client without closing them. Fix in
// perfobs/otlpmetrics.go: give the exporter an http.Client (otlpmetrichttp.WithHTTPClient) and
// close its idle connections in metricsPush.shutdown.
func TestSDKClosesItsConnectionsOnShutdown(t *testing.T) {
	leaktest.Check(t)
	ingest, otlp := newIngest(t), newOTLPReceiver(t)
	before := leaktest.IgnoreCurrent() // the backends' own goroutines
	runEveryFeature(t, ingest, otlp)
	if err := leaktest.Find(before); err != nil {
		t.Errorf("after Shutdown, with the backends still up:\n%v", err)
	}
}

// TestShutdownLeavesNothingRunningWhenBackendsHang is TestShutdownBoundedWhenBackendsHang with
// the leak check made while the backends still hang, 3 s after Shutdown returned.
//
// Fails today: when the OTLP trace endpoint accepts and never answers, the batch span processor's
// goroutine stays in otlptracehttp's retry loop (up to its one-minute retry budget) after
// Shutdown returned: TracerProvider.Shutdown waits for that goroutine before it stops the
// exporter, and only stopping the exporter cancels the upload. Fix in perfobs/tracing.go: keep
// the exporter, and when the provider's Shutdown returns a context error, call the exporter's
// Shutdown (its Stop cancels the in-flight upload and the retry wait); or bound the retries
// (otlptracehttp.WithRetry) by the shutdown budget.
func TestShutdownLeavesNothingRunningWhenBackendsHang(t *testing.T) {
	leaktest.Check(t, leaktest.WithTimeout(15*time.Second))
	pyroscope, otlp := newBlackHole(t), newBlackHole(t)
	before := leaktest.IgnoreCurrent() // the black holes' own goroutines
	obs, err := perfobs.Start(context.Background(), everyFeature("hang", "http://"+pyroscope.addr(), "http://"+otlp.addr()))
	if err != nil {
		t.Fatal(err)
	}
	a, err := startApp(obs)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.drive(10); err != nil {
		t.Fatal(err)
	}
	a.close()
	time.Sleep(1500 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = obs.Shutdown(ctx)
	time.Sleep(time.Second)
	if err := leaktest.Find(before, leaktest.WithTimeout(2*time.Second)); err != nil {
		t.Errorf("3 s after Shutdown, the backends still hanging:\n%v", err)
	}
}
