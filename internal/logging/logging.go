// Package logging makes the JSON logger the entrypoints log with. It is
// internal because a library user brings their own *slog.Logger.
package logging

import (
	"io"
	"log/slog"
)

// New returns a logger writing one JSON object per line to w, which
// CloudWatch and Cloud Logging index by field, at level and above.
func New(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}
