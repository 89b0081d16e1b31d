package gcf

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
)

// TestLoggerLevelAttr: the record's level becomes "severity", and an
// attribute the caller named "level" is logged as it is, not taken for one
// (it used to panic).
func TestLoggerLevelAttr(t *testing.T) {
	var buf bytes.Buffer
	newLogger(&buf, slog.LevelInfo).Warn("webhook", slog.String("level", "x"), slog.Int("level_count", 1))
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("log line %q: %v", buf.Bytes(), err)
	}
	if line["severity"] != "WARNING" || line["level"] != "x" || line["message"] != "webhook" {
		t.Errorf("log line %s, want severity WARNING, level x, message webhook", buf.Bytes())
	}
}
