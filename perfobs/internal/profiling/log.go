package profiling

import (
	"fmt"
	"log/slog"

	"github.com/perfobs/perfobs-go/internal/ratelog"
)

// logger writes the profiler's errors as warnings, at most once per interval, with the number of
// errors left unlogged since the previous line.
type logger struct {
	l     *slog.Logger
	limit *ratelog.Limiter
}

func newLogger(l *slog.Logger) *logger {
	return &logger{l: l, limit: ratelog.New(logEvery)}
}

func (l *logger) error(msg string, err error) {
	l.limit.Log(l.l, slog.LevelWarn, "profiling: "+msg, "error", err)
}

// pyroscopeLogger adapts logger to pyroscope-go's Logger: its errors are rate-limited warnings;
// its informational and debug lines are dropped.
type pyroscopeLogger struct{ l *logger }

func (pyroscopeLogger) Infof(string, ...any)  {}
func (pyroscopeLogger) Debugf(string, ...any) {}
func (p pyroscopeLogger) Errorf(format string, args ...any) {
	p.l.error("pyroscope-go", fmt.Errorf(format, args...))
}
