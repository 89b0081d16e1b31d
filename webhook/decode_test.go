package webhook

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bodies returns every sample body: the repository's events/bodies (what
// make send posts) and this package's testdata, written from ElevenLabs'
// documentation.
func bodies(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, glob := range []string{"../events/bodies/*.json", "testdata/*.json"} {
		paths, err := filepath.Glob(glob)
		require.NoError(t, err)
		for _, p := range paths {
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			out[p] = b
		}
	}
	// The request bodies inside the sample Lambda events (sam local invoke).
	paths, err := filepath.Glob("../events/*.json")
	require.NoError(t, err)
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		require.NoError(t, err)
		var req struct {
			Body            *string `json:"body"`
			IsBase64Encoded bool    `json:"isBase64Encoded"`
		}
		require.NoError(t, json.Unmarshal(raw, &req), p)
		if req.Body == nil {
			continue // env.json
		}
		b := []byte(*req.Body)
		if req.IsBase64Encoded {
			b, err = base64.StdEncoding.DecodeString(*req.Body)
			require.NoError(t, err, p)
		}
		out[p] = b
	}
	require.GreaterOrEqual(t, len(out), 29)
	return out
}

func TestDecodeEveryBody(t *testing.T) {
	for name, body := range bodies(t) {
		t.Run(name, func(t *testing.T) {
			ev, err := Decode(body)
			require.NoError(t, err)
			var top struct {
				Type string `json:"type"`
			}
			require.NoError(t, json.Unmarshal(body, &top))
			assert.Equal(t, top.Type, ev.EventType())
			assert.Equal(t, body, []byte(ev.RawJSON()))
			if _, unknown := ev.(*Unknown); !unknown {
				assert.Empty(t, UnknownFields(ev), "fields the types miss")
			}
		})
	}
}

func TestDecodeFields(t *testing.T) {
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		return b
	}
	t.Run("post_call_transcription", func(t *testing.T) {
		ev, err := Decode(read("testdata/post_call_transcription_full.json"))
		require.NoError(t, err)
		e := ev.(*PostCallTranscription)
		d := e.Data
		assert.Equal(t, time.Unix(1739537297, 0).UTC(), e.EventTimestamp.Time, "event_timestamp sent as a string")
		assert.Equal(t, "abc", d.ConversationID)
		assert.Equal(t, "production", d.Environment)
		require.Len(t, d.Transcript, 4)
		assert.Equal(t, "get_weather", d.Transcript[2].ToolCalls[0].ToolName)
		assert.JSONEq(t, `{"city":"Paris"}`, d.Transcript[2].ToolCalls[0].ParamsAsJSON)
		assert.Equal(t, 0.41, *d.Transcript[2].ToolResults[0].ToolLatencySecs)
		assert.Equal(t, 22.0, d.Metadata.CallDurationSecs)
		assert.Equal(t, 296.0, *d.Metadata.Cost)
		assert.Equal(t, "+15555550199", d.Metadata.PhoneCall.ExternalNumber)
		assert.Equal(t, "end_call tool was called.", d.Metadata.TerminationReason)
		assert.Equal(t, "success", d.Analysis.CallSuccessful)
		assert.Equal(t, "success", d.Analysis.EvaluationCriteriaResults["weather_answered"].Result)
		assert.JSONEq(t, `"Paris"`, string(d.Analysis.DataCollectionResults["city"].Value))
		assert.Equal(t, "angelo", d.InitiationData.DynamicVariables["user_name"])
		assert.True(t, d.HasAudio && d.HasUserAudio && d.HasResponseAudio)
	})
	t.Run("call_initiation_failure sip", func(t *testing.T) {
		ev, err := Decode(read("testdata/call_initiation_failure_sip.json"))
		require.NoError(t, err)
		d := ev.(*CallInitiationFailure).Data
		assert.Equal(t, "no-answer", d.FailureReason)
		assert.Equal(t, "sip", d.Metadata.Type)
		assert.Contains(t, string(d.Metadata.Body), `"sip_status_code": 480`)
	})
	t.Run("call_initiation_failure twilio", func(t *testing.T) {
		ev, err := Decode(read("../events/bodies/call_initiation_failure.json"))
		require.NoError(t, err)
		d := ev.(*CallInitiationFailure).Data
		assert.Equal(t, "twilio", d.Metadata.Type)
		var body map[string]string
		require.NoError(t, json.Unmarshal(d.Metadata.Body, &body))
		assert.Equal(t, "busy", body["CallStatus"])
	})
	t.Run("speech_to_text multichannel", func(t *testing.T) {
		ev, err := Decode(read("testdata/speech_to_text_multichannel.json"))
		require.NoError(t, err)
		d := ev.(*SpeechToTextTranscription).Data
		assert.Equal(t, "req_stt_1", d.RequestID)
		assert.JSONEq(t, `{"order_id":42}`, string(d.WebhookMetadata))
		require.Len(t, d.Transcription.Transcripts, 2)
		assert.Equal(t, "speaker_1", d.Transcription.Transcripts[1].Words[0].SpeakerID)
	})
	t.Run("studio", func(t *testing.T) {
		ev, err := Decode(read("testdata/chapter_conversion_status.json"))
		require.NoError(t, err)
		d := ev.(*ChapterConversionStatus).Data
		assert.Equal(t, "error", d.ConversionStatus)
		assert.Equal(t, "SDxvEnmmBsq6DTvqBtfn", d.ChapterID)
		ev, err = Decode(read("testdata/project_conversion_status.json"))
		require.NoError(t, err)
		assert.Equal(t, "22m00Tcm4TlvDq8ikMAT", ev.(*ProjectConversionStatus).Data.ProjectSnapshotID)
	})
	t.Run("voice", func(t *testing.T) {
		for _, p := range []string{"voice_removal_notice", "voice_removal_notice_withdrawn", "voice_removed"} {
			ev, err := Decode(read("testdata/" + p + ".json"))
			require.NoError(t, err)
			assert.Equal(t, p, ev.EventType())
		}
	})
}

func TestDecodeUnknownAndMalformed(t *testing.T) {
	cases := []struct {
		name, body, typ string
	}{
		{"unknown type", `{"type":"agent_deployed","data":{"x":1}}`, "agent_deployed"},
		{"not json", `hello`, "unknown"},
		{"array", `[1,2]`, "unknown"},
		{"type not a string", `{"type":5}`, "unknown"},
		{"empty", ``, "unknown"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev, err := Decode([]byte(c.body))
			require.NoError(t, err)
			u, ok := ev.(*Unknown)
			require.True(t, ok, "%T", ev)
			assert.Equal(t, c.typ, u.Type)
			assert.Equal(t, c.body, string(u.Raw))
		})
	}
	_, err := Decode([]byte(`{"type":"post_call_transcription","data":{"agent_id":5}}`))
	assert.ErrorIs(t, err, ErrDecode)
	_, err = Decode([]byte(`{"type":"post_call_audio","data":{"full_audio":"@@@@"}}`))
	require.NoError(t, err, "the audio is decoded only when read")
	ev, _ := Decode([]byte(`{"type":"post_call_audio","data":{"full_audio":"@@@@"}}`))
	_, err = ev.(*PostCallAudio).Data.FullAudio.Bytes()
	assert.ErrorIs(t, err, ErrDecode)
	_, _, err = DecodePostCallAudio(strings.NewReader(`{"type":"post_call_audio","data":{"full_audio":"QUJD`), io.Discard)
	assert.ErrorIs(t, err, ErrDecode, "truncated")
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

func TestTimestamp(t *testing.T) {
	cases := []struct {
		in   string
		want time.Time
	}{
		{`1739537297`, time.Unix(1739537297, 0)},
		{`"1739537297"`, time.Unix(1739537297, 0)},
		{`1739537297.5`, time.Unix(1739537297, 5e8)},
		{`"2025-02-14T12:48:17Z"`, time.Unix(1739537297, 0)},
		{`null`, time.Time{}},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			var ts Timestamp
			require.NoError(t, json.Unmarshal([]byte(c.in), &ts))
			assert.True(t, c.want.Equal(ts.Time), "%v", ts.Time)
			out, err := json.Marshal(ts)
			require.NoError(t, err)
			assert.Equal(t, c.in, string(out), "written back as it came")
		})
	}
	var ts Timestamp
	assert.Error(t, json.Unmarshal([]byte(`"soon"`), &ts))
	assert.Error(t, json.Unmarshal([]byte(`{}`), &ts))
}

// TestReencodeKeepsUnknownFields: fields the types lack, at any depth,
// survive json.Marshal; known fields come from the Go value.
func TestReencodeKeepsUnknownFields(t *testing.T) {
	body := []byte(`{"type":"post_call_transcription","event_timestamp":"1739537297","brand_new":{"a":[1,2]},
		"data":{"agent_id":"a","conversation_id":"c","status":"done","future_flag":true,
		"transcript":[{"role":"user","message":"hi","time_in_call_secs":1,"emotion":"calm"}],
		"metadata":{"start_time_unix_secs":1,"call_duration_secs":2,"new_cost_model":{"usd":0.1}},
		"analysis":{"call_successful":"success","transcript_summary":"s",
			"evaluation_criteria_results":{"x":{"criteria_id":"x","result":"success","rationale":"r","weight":3}}},
		"has_audio":false,"has_user_audio":false,"has_response_audio":false}}`)
	ev, err := Decode(body)
	require.NoError(t, err)
	assert.Equal(t, []string{
		"brand_new",
		"data.analysis.evaluation_criteria_results.*.weight",
		"data.future_flag",
		"data.metadata.new_cost_model",
		"data.transcript[].emotion",
	}, UnknownFields(ev))

	e := ev.(*PostCallTranscription)
	e.Data.Status = "processed"
	e.Data.Transcript[0].Message = "hello"
	out, err := json.Marshal(e)
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal(out, &got))
	data := got["data"].(map[string]any)
	assert.Equal(t, map[string]any{"a": []any{1.0, 2.0}}, got["brand_new"])
	assert.Equal(t, "1739537297", got["event_timestamp"], "a string stays a string")
	assert.Equal(t, true, data["future_flag"])
	assert.Equal(t, "processed", data["status"], "known fields come from the Go value")
	turn := data["transcript"].([]any)[0].(map[string]any)
	assert.Equal(t, "calm", turn["emotion"])
	assert.Equal(t, "hello", turn["message"])
	assert.Equal(t, map[string]any{"usd": 0.1}, data["metadata"].(map[string]any)["new_cost_model"])
	crit := data["analysis"].(map[string]any)["evaluation_criteria_results"].(map[string]any)["x"].(map[string]any)
	assert.Equal(t, 3.0, crit["weight"])

	// Decoding the re-encoded bytes gives the same typed value.
	again, err := Decode(out)
	require.NoError(t, err)
	a := again.(*PostCallTranscription)
	assert.Equal(t, e.Data, a.Data)

	// An unknown event re-encodes as it came.
	u, err := Decode([]byte(`{"type":"x","z":1}`))
	require.NoError(t, err)
	out, err = json.Marshal(u)
	require.NoError(t, err)
	assert.Equal(t, `{"type":"x","z":1}`, string(out))
}

func audioBody(t testing.TB, audio []byte, escapeSlashes bool) []byte {
	enc := base64.StdEncoding.EncodeToString(audio)
	if escapeSlashes {
		enc = strings.ReplaceAll(enc, "/", `\/`)
	}
	return []byte(`{"data":{"full_audio":"` + enc + `","agent_id":"ag","extra":{"k":[1,"}"]},"conversation_id":"conv_1"},"type":"post_call_audio","event_timestamp":1700000000}`)
}

func TestPostCallAudio(t *testing.T) {
	audio := make([]byte, 200_003)
	_, err := rand.Read(audio)
	require.NoError(t, err)
	for _, esc := range []bool{false, true} {
		body := audioBody(t, audio, esc)
		t.Run("Decode", func(t *testing.T) {
			ev, err := Decode(body)
			require.NoError(t, err)
			a := ev.(*PostCallAudio)
			assert.Equal(t, "conv_1", a.Data.ConversationID, "the audio came first")
			got, err := a.Data.FullAudio.Bytes()
			require.NoError(t, err)
			assert.True(t, bytes.Equal(audio, got))
			assert.Equal(t, []string{"data.extra"}, UnknownFields(ev))
			out, err := json.Marshal(a)
			require.NoError(t, err)
			var back map[string]any
			require.NoError(t, json.Unmarshal(out, &back))
			assert.Equal(t, map[string]any{"k": []any{1.0, "}"}}, back["data"].(map[string]any)["extra"])
		})
		t.Run("DecodePostCallAudio", func(t *testing.T) {
			var buf bytes.Buffer
			ev, n, err := DecodePostCallAudio(bytes.NewReader(body), &buf)
			require.NoError(t, err)
			assert.Equal(t, int64(len(audio)), n)
			assert.True(t, bytes.Equal(audio, buf.Bytes()))
			assert.Equal(t, "conv_1", ev.Data.ConversationID)
			assert.Equal(t, "ag", ev.Data.AgentID)
			assert.Equal(t, int64(1700000000), ev.EventTimestamp.Unix())
		})
	}
	// The sample body make send posts.
	b, err := os.ReadFile("../events/bodies/post_call_audio.json")
	require.NoError(t, err)
	var buf bytes.Buffer
	_, n, err := DecodePostCallAudio(bytes.NewReader(b), &buf)
	require.NoError(t, err)
	assert.Positive(t, n)
	assert.Equal(t, "ID3", buf.String()[:3], "an MP3 with an ID3 tag")
}

func TestRouter(t *testing.T) {
	var got []string
	r := &Router{
		PostCallTranscription: func(_ context.Context, e *PostCallTranscription) error {
			got = append(got, "transcript "+e.Data.ConversationID)
			return nil
		},
		CallInitiationFailure: func(context.Context, *CallInitiationFailure) error {
			return errors.New("database down")
		},
		Fallback: func(_ context.Context, e Event) error {
			got = append(got, "fallback "+e.EventType())
			return nil
		},
		Seen: &MemorySeen{},
	}
	ctx := context.Background()
	tr := []byte(`{"type":"post_call_transcription","data":{"conversation_id":"c1"}}`)
	dup, err := r.DispatchOnce(ctx, "k1", tr)
	require.NoError(t, err)
	assert.False(t, dup)
	dup, err = r.DispatchOnce(ctx, "k1", tr)
	require.NoError(t, err)
	assert.True(t, dup, "the same key again is skipped")
	require.NoError(t, r.Dispatch(ctx, []byte(`{"type":"voice_removed","data":{}}`)))
	require.NoError(t, r.Dispatch(ctx, []byte(`not json`)))

	fail := []byte(`{"type":"call_initiation_failure","data":{}}`)
	_, err = r.DispatchOnce(ctx, "k2", fail)
	assert.EqualError(t, err, "database down")
	_, err = r.DispatchOnce(ctx, "k2", fail)
	assert.EqualError(t, err, "database down", "a failed message is not remembered as seen")
	assert.Equal(t, []string{"transcript c1", "fallback voice_removed", "fallback unknown"}, got)

	assert.NoError(t, (&Router{}).Dispatch(ctx, tr), "no handler, no fallback: dropped")
}

func TestMemorySeenTTL(t *testing.T) {
	now := time.Unix(0, 0)
	m := &MemorySeen{TTL: time.Minute, Now: func() time.Time { return now }}
	ctx := context.Background()
	seen, _ := m.SeenBefore(ctx, "a")
	assert.False(t, seen)
	now = now.Add(59 * time.Second)
	seen, _ = m.SeenBefore(ctx, "a")
	assert.True(t, seen)
	now = now.Add(2 * time.Minute)
	seen, _ = m.SeenBefore(ctx, "a")
	assert.False(t, seen, "expired")
	require.NoError(t, m.Forget(ctx, "a"))
	seen, _ = m.SeenBefore(ctx, "a")
	assert.False(t, seen)
}
