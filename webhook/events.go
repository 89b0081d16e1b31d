package webhook

import (
	"encoding/json"
)

// Event types as ElevenLabs names them in the body's "type".
const (
	TypePostCallTranscription       = "post_call_transcription"
	TypePostCallAudio               = "post_call_audio"
	TypeCallInitiationFailure       = "call_initiation_failure"
	TypeSpeechToTextTranscription   = "speech_to_text_transcription"
	TypeVoiceRemovalNotice          = "voice_removal_notice"
	TypeVoiceRemovalNoticeWithdrawn = "voice_removal_notice_withdrawn"
	TypeVoiceRemoved                = "voice_removed"
	TypeProjectConversionStatus     = "project_conversion_status"
	TypeChapterConversionStatus     = "chapter_conversion_status"
)

// Event is one decoded webhook: one of the pointer types in this package
// (*PostCallTranscription, …, or *Unknown for a type this package does not
// know).
type Event interface {
	// EventType is the body's "type".
	EventType() string
	// RawJSON is the body the event was decoded from (nil for an event
	// streamed by DecodePostCallAudio). It shares memory with that body.
	RawJSON() json.RawMessage
}

// Header is what every webhook body has: its type, when ElevenLabs sent
// it, and the raw bytes, from which re-encoding restores the fields the
// Go types do not know.
type Header struct {
	Type           string    `json:"type"`
	EventTimestamp Timestamp `json:"event_timestamp"`
	// Raw is the body as received. json.Marshal writes every field the Go
	// type knows from the Go value and copies the others from Raw.
	Raw json.RawMessage `json:"-"`
}

// EventType returns h.Type.
func (h *Header) EventType() string { return h.Type }

// RawJSON returns h.Raw.
func (h *Header) RawJSON() json.RawMessage { return h.Raw }

// PostCallTranscription arrives once a conversation ended and its analysis
// is done.
type PostCallTranscription struct {
	Header
	Data Conversation `json:"data"`
}

// PostCallAudio carries a conversation's full audio, base64 MP3, often tens
// of megabytes: Data.FullAudio streams it out without decoding it whole.
type PostCallAudio struct {
	Header
	Data AudioData `json:"data"`
}

// AudioData is the data of a post_call_audio event.
type AudioData struct {
	AgentID        string `json:"agent_id"`
	ConversationID string `json:"conversation_id"`
	FullAudio      Audio  `json:"full_audio"`
}

// CallInitiationFailure says that a phone call could not be started.
type CallInitiationFailure struct {
	Header
	Data InitiationFailure `json:"data"`
}

// InitiationFailure is the data of a call_initiation_failure event.
type InitiationFailure struct {
	AgentID        string `json:"agent_id"`
	ConversationID string `json:"conversation_id"`
	// FailureReason is e.g. "busy", "no-answer", "unknown".
	FailureReason string           `json:"failure_reason"`
	Metadata      *FailureMetadata `json:"metadata,omitempty"`
}

// FailureMetadata is the telephony provider's own report: Type is "sip" or
// "twilio", Body its raw payload (Twilio's status callback, or the SIP
// response), kept as sent since its shape is the provider's.
type FailureMetadata struct {
	Type string          `json:"type"`
	Body json.RawMessage `json:"body,omitempty"`
}

// SpeechToTextTranscription is the result of an asynchronous
// speech-to-text request made with webhook=true.
type SpeechToTextTranscription struct {
	Header
	Data SpeechToTextData `json:"data"`
}

// SpeechToTextData is the data of a speech_to_text_transcription event.
type SpeechToTextData struct {
	RequestID string `json:"request_id"`
	// WebhookMetadata is what the request passed as webhook_metadata,
	// returned as sent.
	WebhookMetadata json.RawMessage `json:"webhook_metadata,omitempty"`
	Transcription   Transcription   `json:"transcription"`
}

// Transcription is a speech-to-text result. A multichannel request fills
// Transcripts, one per channel, instead of the single-channel fields.
type Transcription struct {
	LanguageCode        string          `json:"language_code,omitempty"`
	LanguageProbability float64         `json:"language_probability,omitempty"`
	Text                string          `json:"text,omitempty"`
	Words               []Word          `json:"words,omitempty"`
	ChannelIndex        *int            `json:"channel_index,omitempty"`
	AdditionalFormats   json.RawMessage `json:"additional_formats,omitempty"`
	TranscriptionID     string          `json:"transcription_id,omitempty"`
	Entities            json.RawMessage `json:"entities,omitempty"`
	AudioDurationSecs   *float64        `json:"audio_duration_secs,omitempty"`
	EditedTranscript    json.RawMessage `json:"edited_transcript,omitempty"`
	Transcripts         []Transcription `json:"transcripts,omitempty"`
}

// Word is one word, space or audio event of a transcription, with its
// timing in seconds.
type Word struct {
	Text string `json:"text"`
	// Type is "word", "spacing" or "audio_event".
	Type         string          `json:"type"`
	Start        *float64        `json:"start,omitempty"`
	End          *float64        `json:"end,omitempty"`
	SpeakerID    string          `json:"speaker_id,omitempty"`
	Logprob      float64         `json:"logprob"`
	Characters   json.RawMessage `json:"characters,omitempty"`
	ChannelIndex *int            `json:"channel_index,omitempty"`
}

// VoiceRemovalNotice says that a shared voice the workspace uses is
// scheduled to be removed from the voice library.
type VoiceRemovalNotice struct {
	Header
	Data VoiceNotice `json:"data"`
}

// VoiceRemovalNoticeWithdrawn says that a scheduled removal was cancelled.
type VoiceRemovalNoticeWithdrawn struct {
	Header
	Data VoiceNotice `json:"data"`
}

// VoiceRemoved says that a shared voice was removed and no longer works.
type VoiceRemoved struct {
	Header
	Data VoiceNotice `json:"data"`
}

// VoiceNotice is the data of the voice removal events. ElevenLabs lists
// these events by name but publishes no payload schema; VoiceID is the one
// field seen in practice, and every other field is kept in Header.Raw (see
// UnknownFields).
type VoiceNotice struct {
	VoiceID string `json:"voice_id"`
}

// ProjectConversionStatus reports the end of a Studio project's conversion.
type ProjectConversionStatus struct {
	Header
	Data ConversionStatus `json:"data"`
}

// ChapterConversionStatus reports the end of a Studio chapter's conversion.
type ChapterConversionStatus struct {
	Header
	Data ConversionStatus `json:"data"`
}

// ConversionStatus is the data of Studio's conversion events, as the
// Studio API documents its callback_url messages; the chapter fields are
// empty for a whole project.
type ConversionStatus struct {
	RequestID string `json:"request_id,omitempty"`
	ProjectID string `json:"project_id"`
	ChapterID string `json:"chapter_id,omitempty"`
	// ConversionStatus is "success" or "error".
	ConversionStatus  string `json:"conversion_status"`
	ProjectSnapshotID string `json:"project_snapshot_id,omitempty"`
	ChapterSnapshotID string `json:"chapter_snapshot_id,omitempty"`
	ErrorDetails      string `json:"error_details,omitempty"`
}

// Unknown is an event of a type this package does not know, or a body that
// is not a JSON object with a string "type" (Type is then "unknown", as
// the receiver's event_type attribute says). Raw holds all of it.
type Unknown struct {
	Header
	Data json.RawMessage `json:"data,omitempty"`
}
