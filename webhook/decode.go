package webhook

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/elevenrelay/elevenrelay/core"
	"github.com/elevenrelay/elevenrelay/internal/jsonscan"
)

// ErrDecode wraps every decoding failure: a body of a known type whose
// fields have the wrong JSON types, or broken base64 audio. Retrying such a
// message cannot help; let it reach the dead-letter queue.
var ErrDecode = errors.New("webhook: cannot decode event")

// Decode returns the typed event for a webhook body, as the receiver queued
// it (core.Resolve gives it back). The event keeps body as its raw JSON,
// sharing memory with it. An unknown type, or a body that is not a JSON
// object with a string "type", is an *Unknown, not an error.
func Decode(body []byte) (Event, error) {
	typ := eventType(body)
	var ev Event
	switch typ {
	case TypePostCallAudio:
		return decodeAudioBody(body)
	case TypePostCallTranscription:
		return decodeTranscription(body)
	case TypeCallInitiationFailure:
		ev = &CallInitiationFailure{}
	case TypeSpeechToTextTranscription:
		ev = &SpeechToTextTranscription{}
	case TypeVoiceRemovalNotice:
		ev = &VoiceRemovalNotice{}
	case TypeVoiceRemovalNoticeWithdrawn:
		ev = &VoiceRemovalNoticeWithdrawn{}
	case TypeVoiceRemoved:
		ev = &VoiceRemoved{}
	case TypeProjectConversionStatus:
		ev = &ProjectConversionStatus{}
	case TypeChapterConversionStatus:
		ev = &ChapterConversionStatus{}
	default:
		u := &Unknown{}
		if json.Unmarshal(body, u) != nil || typ == "" {
			// Not an object of the expected shape: still the caller's to see.
			u = &Unknown{Header: Header{Type: core.UnknownEventType}}
		}
		u.Raw = body
		return u, nil
	}
	if err := json.Unmarshal(body, ev); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrDecode, typ, err)
	}
	h := header(ev)
	h.Raw = body
	return ev, nil
}

// eventType is the body's top-level "type", or "" for a body that is not a
// JSON object with a string "type". It reads the body as the receiver did
// when it set the event_type attribute, skipping long strings (audio) with
// a byte search.
func eventType(body []byte) string {
	var c jsonscan.Classifier
	c.Write(body)
	if env, ok := c.Envelope(); ok && env.HasType {
		return env.Type
	}
	return ""
}

// header reaches the Header every event type embeds.
func header(ev Event) *Header {
	switch e := ev.(type) {
	case *PostCallTranscription:
		return &e.Header
	case *PostCallAudio:
		return &e.Header
	case *CallInitiationFailure:
		return &e.Header
	case *SpeechToTextTranscription:
		return &e.Header
	case *VoiceRemovalNotice:
		return &e.Header
	case *VoiceRemovalNoticeWithdrawn:
		return &e.Header
	case *VoiceRemoved:
		return &e.Header
	case *ProjectConversionStatus:
		return &e.Header
	case *ChapterConversionStatus:
		return &e.Header
	case *Unknown:
		return &e.Header
	}
	panic(fmt.Sprintf("webhook: %T is not an event type of this package", ev))
}

// Re-encoding: each event writes its known fields from the Go value and
// copies the fields its type lacks from Raw (see merge).

// MarshalJSON keeps the fields this package does not know.
func (e PostCallTranscription) MarshalJSON() ([]byte, error) {
	type plain PostCallTranscription
	return reencode(plain(e), e.Raw)
}

// MarshalJSON keeps the fields this package does not know.
func (e PostCallAudio) MarshalJSON() ([]byte, error) {
	type plain PostCallAudio
	return reencode(plain(e), e.Raw)
}

// MarshalJSON keeps the fields this package does not know.
func (e CallInitiationFailure) MarshalJSON() ([]byte, error) {
	type plain CallInitiationFailure
	return reencode(plain(e), e.Raw)
}

// MarshalJSON keeps the fields this package does not know.
func (e SpeechToTextTranscription) MarshalJSON() ([]byte, error) {
	type plain SpeechToTextTranscription
	return reencode(plain(e), e.Raw)
}

// MarshalJSON keeps the fields this package does not know.
func (e VoiceRemovalNotice) MarshalJSON() ([]byte, error) {
	type plain VoiceRemovalNotice
	return reencode(plain(e), e.Raw)
}

// MarshalJSON keeps the fields this package does not know.
func (e VoiceRemovalNoticeWithdrawn) MarshalJSON() ([]byte, error) {
	type plain VoiceRemovalNoticeWithdrawn
	return reencode(plain(e), e.Raw)
}

// MarshalJSON keeps the fields this package does not know.
func (e VoiceRemoved) MarshalJSON() ([]byte, error) {
	type plain VoiceRemoved
	return reencode(plain(e), e.Raw)
}

// MarshalJSON keeps the fields this package does not know.
func (e ProjectConversionStatus) MarshalJSON() ([]byte, error) {
	type plain ProjectConversionStatus
	return reencode(plain(e), e.Raw)
}

// MarshalJSON keeps the fields this package does not know.
func (e ChapterConversionStatus) MarshalJSON() ([]byte, error) {
	type plain ChapterConversionStatus
	return reencode(plain(e), e.Raw)
}

// MarshalJSON returns Raw when there is one: an unknown event is all
// unknown fields.
func (e Unknown) MarshalJSON() ([]byte, error) {
	if len(e.Raw) > 0 {
		return e.Raw, nil
	}
	type plain Unknown
	return json.Marshal(plain(e))
}
