package middleware

import (
	"context"
	"net/http"
	"runtime/trace"
	"time"

	"go.opentelemetry.io/otel/attribute"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/perfobs/perfobs-go/catalog"
	"github.com/perfobs/perfobs-go/flightrecorder"
	"github.com/perfobs/perfobs-go/internal/instrument"
)

// WithFlightRecorder ties requests to the execution trace that r keeps (package
// flightrecorder): each request runs in a runtime/trace task named by its route (the gRPC
// interceptors: by its method) that logs its trace id, and a request over its route's budget
// makes r take a snapshot in the background; its server span then carries the snapshot's id in
// the attribute catalog.FlightRecorderSnapshotAttr ("perfobs.flightrecorder.snapshot_id").
//
// The HTTP task is named by the route when the middleware can know it before serving: with
// WithServeMux, or when the wrapped handler is an *http.ServeMux (one more route lookup per
// request); otherwise by the method, and the route is logged in the task when the request ends.
// Without this option the middleware starts no task and reads no clock more. HTTP server and
// gRPC; the HTTP client (Transport) ignores it.
func WithFlightRecorder(r *flightrecorder.Recorder) Option {
	if r == nil {
		return invalid("WithFlightRecorder", everywhere, "recorder is nil")
	}
	return newOption("WithFlightRecorder", everywhere, func(c *instrument.Config) { c.FlightRecorder = r })
}

// flightTask is a request's runtime/trace task (nil without WithFlightRecorder).
type flightTask = *trace.Task

// startTask starts r's task, named by its route when the mux tells it now, and returns r with the
// task in its context, and the task's name.
func (h *handler) startTask(r *http.Request, span oteltrace.Span) (*http.Request, *trace.Task, string) {
	mux := h.rec.cfg.ServeMux
	if mux == nil {
		mux, _ = h.next.(*http.ServeMux)
	}
	name := ""
	if mux != nil {
		if _, pattern := mux.Handler(r); pattern != "" {
			name = RouteFromPattern(pattern)
		}
	}
	if name == "" {
		name = methodNames[methodIndex(r.Method)] // the route is logged at the end
	}
	ctx, task := flightrecorder.StartTask(r.Context(), name, traceIDOf(span))
	return r.WithContext(ctx), task, name
}

// flightDone ends the request's task, logging its route when the task's name is not the route
// (named by the method only, or SetRoute or a route function changed it), and hands its duration
// to the flight recorder; when that takes a snapshot, the span (not yet ended) gets the
// snapshot's id.
func (h *handler) flightDone(ctx context.Context, task *trace.Task, name string, span oteltrace.Span, route string, elapsed time.Duration) {
	if name != route {
		trace.Log(ctx, flightrecorder.LogRoute, route)
	}
	task.End()
	flightObserve(h.rec.cfg.FlightRecorder, span, route, elapsed)
}

// flightObserve reports the request to fr and marks its span with the snapshot id, if any.
func flightObserve(fr *flightrecorder.Recorder, span oteltrace.Span, route string, elapsed time.Duration) {
	id := fr.Observe(route, traceIDOf(span), elapsed)
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
