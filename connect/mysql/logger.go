package mysql

import (
	"context"
	"log/slog"
)

// newSyncerLogger routes go-mysql's log lines to the task's logger at debug
// level (it logs every reconnect and rotation at info).
func newSyncerLogger(l *slog.Logger) *slog.Logger {
	return slog.New(levelShift{l.Handler()})
}

type levelShift struct{ h slog.Handler }

func (s levelShift) Enabled(ctx context.Context, l slog.Level) bool {
	return s.h.Enabled(ctx, shift(l))
}
func (s levelShift) Handle(ctx context.Context, r slog.Record) error {
	r.Level = shift(r.Level)
	return s.h.Handle(ctx, r)
}
func (s levelShift) WithAttrs(a []slog.Attr) slog.Handler { return levelShift{s.h.WithAttrs(a)} }
func (s levelShift) WithGroup(n string) slog.Handler      { return levelShift{s.h.WithGroup(n)} }

func shift(l slog.Level) slog.Level {
	if l < slog.LevelWarn {
		return slog.LevelDebug
	}
	return l
}
