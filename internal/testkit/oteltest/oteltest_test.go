package oteltest_test

import (
	"context"
	"testing"

	"github.com/perfobs/perfobs-go/internal/testkit/oteltest"
	"github.com/perfobs/perfobs-go/leaktest"
)

func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }

func TestRecordsEndedSpans(t *testing.T) {
	tp, sr := oteltest.New(t)
	_, span := tp.Tracer("test").Start(context.Background(), "op")
	if len(sr.Ended()) != 0 {
		t.Fatal("a span is recorded before it ends")
	}
	span.End()
	if got := sr.Ended(); len(got) != 1 || got[0].Name() != "op" || !got[0].SpanContext().IsSampled() {
		t.Fatalf("ended spans: %v, want one sampled span named op", got)
	}
}
