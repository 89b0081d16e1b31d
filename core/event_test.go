package core

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseEvent(t *testing.T) {
	tests := []struct {
		name string
		body string
		want event
	}{
		{"transcription", `{"type":"post_call_transcription","event_timestamp":1739537297,"data":{"agent_id":"a","conversation_id":"conv_1"}}`,
			event{"post_call_transcription", "1739537297", "conv_1"}},
		{"fields in any order", `{"data":{"conversation_id":"c"},"event_timestamp":"2025-01-01T00:00:00Z","type":"t"}`,
			event{"t", "2025-01-01T00:00:00Z", "c"}},
		{"white space everywhere", " \n{ \"type\" :\t\"t\" , \"data\" : { \"conversation_id\" : \"c\" } } \n",
			event{"t", "", "c"}},
		{"escaped strings decoded", `{"type":"a\u0062c","data":{"conversation_id":"x\"y"}}`,
			event{"abc", "", `x"y`}},
		{"nested data skipped", `{"data":{"transcript":[{"role":"agent","message":"say \"type\":\"evil\"","x":{"type":"no"}}],"conversation_id":"c"},"type":"t"}`,
			event{"t", "", "c"}},
		{"top-level conversation_id", `{"type":"t","conversation_id":"top"}`, event{"t", "", "top"}},
		{"unknown fields ignored", `{"type":"t","extra":[1,2,{"a":null}],"n":-1.5e3,"b":true}`, event{"t", "", ""}},
		{"duplicate type: last wins like encoding/json", `{"type":"a","type":"b"}`, event{"b", "", ""}},
		{"type not a string", `{"type":42}`, event{UnknownEventType, "", ""}},
		{"type null", `{"type":null}`, event{UnknownEventType, "", ""}},
		{"no type", `{"data":{}}`, event{UnknownEventType, "", ""}},
		{"array", `[{"type":"t"}]`, event{UnknownEventType, "", ""}},
		{"not json", `type=post_call_transcription`, event{UnknownEventType, "", ""}},
		{"empty", ``, event{UnknownEventType, "", ""}},
		{"truncated", `{"type":"t","data":{"conversation_id":"c"`, event{UnknownEventType, "", ""}},
		{"trailing garbage", `{"type":"t"}x`, event{UnknownEventType, "", ""}},
		{"unterminated string", `{"type":"t`, event{UnknownEventType, "", ""}},
		{"escaped backslash before quote", `{"type":"a\\","data":{}}`, event{`a\`, "", ""}},
		{"too deep", `{"type":"t","x":` + strings.Repeat("[", 1000) + strings.Repeat("]", 1000) + `}`, event{UnknownEventType, "", ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseEvent([]byte(tc.body)); got != tc.want {
				t.Fatalf("ParseEvent = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseEventSamples(t *testing.T) {
	want := map[string]event{
		"post_call_transcription.json":      {"post_call_transcription", "1763859600", "conv_01jxq5a7w3d9hc6y2b4k8m1n3p"},
		"post_call_audio.json":              {"post_call_audio", "1763859605", "conv_01jxq5a7w3d9hc6y2b4k8m1n3p"},
		"call_initiation_failure.json":      {"call_initiation_failure", "1763859720", "conv_01jxq6b2m8k4td3x7c5n9q2w4e"},
		"speech_to_text_transcription.json": {"speech_to_text_transcription", "1763859840", ""},
	}
	for file, w := range want {
		t.Run(file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("..", "events", "bodies", file))
			if err != nil {
				t.Fatal(err)
			}
			if got := parseEvent(body); got != w {
				t.Fatalf("ParseEvent = %+v, want %+v", got, w)
			}
		})
	}
}
