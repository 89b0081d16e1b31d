package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Timestamp is a time ElevenLabs sends as Unix seconds. The documentation
// shows event_timestamp as a number in examples and a string in its field
// table, so both decode (a string may also be RFC 3339), and re-encoding
// writes it back as it came in.
type Timestamp struct {
	time.Time
	// raw is the token as it arrived, written back while Time is unchanged.
	raw    string
	parsed time.Time
}

// UnmarshalJSON accepts 1739537297, 1739537297.5, "1739537297",
// "2025-02-14T12:48:17Z" and null (the zero time).
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*t = Timestamp{}
		return nil
	}
	quoted := len(b) > 0 && b[0] == '"'
	s := string(b)
	if quoted {
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("timestamp: %w", err)
		}
		if tm, err := time.Parse(time.RFC3339Nano, s); err == nil {
			*t = Timestamp{Time: tm, raw: string(b), parsed: tm}
			return nil
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e12 {
		return fmt.Errorf("timestamp: %q is neither Unix seconds nor RFC 3339", s)
	}
	sec, frac := math.Modf(f)
	tm := time.Unix(int64(sec), int64(frac*1e9)).UTC()
	*t = Timestamp{Time: tm, raw: string(b), parsed: tm}
	return nil
}

// MarshalJSON writes the value as it arrived while it is unchanged, else
// Unix seconds.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	if t.raw != "" && t.Time.Equal(t.parsed) {
		return []byte(t.raw), nil
	}
	if t.IsZero() {
		return []byte("null"), nil
	}
	s := strconv.FormatInt(t.Unix(), 10)
	if ns := t.Nanosecond(); ns != 0 {
		s = strconv.FormatFloat(float64(t.Unix())+float64(ns)/1e9, 'f', -1, 64)
	}
	return []byte(s), nil
}
