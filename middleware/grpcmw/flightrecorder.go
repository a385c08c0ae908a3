package grpcmw

import (
	"context"
	"runtime/trace"
	"time"

	"go.opentelemetry.io/otel/attribute"
	oteltrace "go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/flightrecorder"
)

// This file is the server side of middleware.WithFlightRecorder: each call runs in a
// runtime/trace task named by its method ("pkg.Service/Method"), and a call over its method's
// budget makes the flight recorder take a snapshot, whose id its span then carries. Nothing here
// runs without the option.

// flightTask is a call's runtime/trace task (nil without WithFlightRecorder).
type flightTask = *trace.Task

// startTask starts the call's task in ctx, logging the span's trace id.
func startTask(ctx context.Context, method string, span oteltrace.Span) (context.Context, flightTask) {
	return flightrecorder.StartTask(ctx, method, traceIDOf(span))
}

// startStreamTask starts the stream's task and hands the handler a stream whose Context has it.
func startStreamTask(ss grpc.ServerStream, method string, span oteltrace.Span) (grpc.ServerStream, flightTask) {
	ctx, task := startTask(ss.Context(), method, span)
	if ts, ok := ss.(*tracedServerStream); ok {
		ts.ctx = ctx
		return ts, task
	}
	return &tracedServerStream{ServerStream: ss, ctx: ctx}, task
}

// flightDone ends the call's task and reports its duration; when that takes a snapshot, the span
// (not yet ended) gets the snapshot's id.
func (r *Recorder) flightDone(task flightTask, span oteltrace.Span, method string, elapsed time.Duration) {
	task.End()
	id := r.cfg.FlightRecorder.Observe(method, traceIDOf(span), elapsed)
	if id != "" && span != nil {
		span.SetAttributes(attribute.String(catalog.FlightRecorderSnapshotAttr, id))
	}
}

// traceIDOf is span's trace id in hex, or "" without a valid one.
func traceIDOf(span oteltrace.Span) string {
	if span == nil {
		return ""
	}
	if sc := span.SpanContext(); sc.HasTraceID() {
		return sc.TraceID().String()
	}
	return ""
}
