package core

import "github.com/elevenrelay/elevenrelay/internal/jsonscan"

// UnknownEventType classifies a verified body that is not a JSON object with a
// string "type". Such a body is still authentic and is still queued.
const UnknownEventType = "unknown"

// event is what the receiver reads of a webhook body: just enough to route
// it. The body itself travels to the queue unchanged.
type event struct {
	// Type is the body's "type" (post_call_transcription, post_call_audio,
	// call_initiation_failure, speech_to_text_transcription, …), or
	// UnknownEventType.
	Type string
	// Timestamp is the body's "event_timestamp" as sent: the text of a
	// scalar (a number, or true/false as written) or the contents of a
	// string. Empty when absent, null, an object or an array.
	Timestamp string
	// ConversationID is the string "conversation_id" from "data" or from
	// the top level, whichever comes later in the body if both do. Empty
	// when absent.
	ConversationID string
}

// parseEvent classifies body leniently: unknown fields are ignored and a body
// that is not a JSON object gives an event of type UnknownEventType, never an
// error. It checks JSON grammar only as far as it needs to find the keys, so
// an object that is invalid elsewhere ({"type":"t","x":nonsense}) may still
// be classified by its "type": the body is authentic either way, and is
// queued unchanged; only the attributes come from this. A body nested deeper
// than jsonscan.MaxDepth is "unknown" too, and still queued.
//
// Post-call audio bodies carry megabytes of base64 in "data"; a full
// encoding/json decode of them would cost many times the signature check. So
// parseEvent walks the object's structure with jsonscan's Classifier, which
// skips string contents with a byte search and decodes only the few short
// values it keeps.
func parseEvent(body []byte) event {
	var c jsonscan.Classifier
	c.Write(body)
	return classified(&c)
}

// classified is the event c found in all the bytes written to it, whether
// in one piece (parseEvent) or streamed (VerifyStream).
func classified(c *jsonscan.Classifier) event {
	env, ok := c.Envelope()
	if !ok {
		return event{Type: UnknownEventType}
	}
	ev := event{Type: UnknownEventType, Timestamp: env.Timestamp, ConversationID: env.ConversationID}
	if env.HasType {
		ev.Type = env.Type
	}
	return ev
}
