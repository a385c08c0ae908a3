package flightrecorder

import (
	"context"
	"runtime/trace"
)

// StartTask starts the runtime/trace task of one request, named by its route (or gRPC method),
// and logs traceID in it (category LogTraceID) when traceID is not empty, so that a snapshot
// ties the request's goroutines to its trace. The caller ends the task before calling Observe,
// so that the snapshot holds the task's end.
func StartTask(ctx context.Context, name, traceID string) (context.Context, *trace.Task) {
	ctx, task := trace.NewTask(ctx, name)
	if traceID != "" {
		trace.Log(ctx, LogTraceID, traceID)
	}
	return ctx, task
}
