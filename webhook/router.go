package webhook

import (
	"context"
	"errors"
)

// Router hands each event to the handler for its type. Set the handlers
// you need; an event whose handler is nil goes to Fallback, and is dropped
// (Dispatch returns nil) when Fallback is nil too. Consumers for SQS,
// Pub/Sub and the local spool all dispatch through a Router, one call per
// message: a non-nil error means that message was not handled and should
// come back.
type Router struct {
	PostCallTranscription       func(context.Context, *PostCallTranscription) error
	PostCallAudio               func(context.Context, *PostCallAudio) error
	CallInitiationFailure       func(context.Context, *CallInitiationFailure) error
	SpeechToTextTranscription   func(context.Context, *SpeechToTextTranscription) error
	VoiceRemovalNotice          func(context.Context, *VoiceRemovalNotice) error
	VoiceRemovalNoticeWithdrawn func(context.Context, *VoiceRemovalNoticeWithdrawn) error
	VoiceRemoved                func(context.Context, *VoiceRemoved) error
	ProjectConversionStatus     func(context.Context, *ProjectConversionStatus) error
	ChapterConversionStatus     func(context.Context, *ChapterConversionStatus) error
	// Fallback receives every other event, *Unknown included.
	Fallback func(context.Context, Event) error

	// Seen, if set, makes DispatchOnce skip messages handled before.
	Seen Seen
}

// Dispatch decodes body and calls its handler.
func (r *Router) Dispatch(ctx context.Context, body []byte) error {
	ev, err := Decode(body)
	if err != nil {
		return err
	}
	return r.Handle(ctx, ev)
}

// Handle calls the handler for an event already decoded.
func (r *Router) Handle(ctx context.Context, ev Event) error {
	switch e := ev.(type) {
	case *PostCallTranscription:
		if r.PostCallTranscription != nil {
			return r.PostCallTranscription(ctx, e)
		}
	case *PostCallAudio:
		if r.PostCallAudio != nil {
			return r.PostCallAudio(ctx, e)
		}
	case *CallInitiationFailure:
		if r.CallInitiationFailure != nil {
			return r.CallInitiationFailure(ctx, e)
		}
	case *SpeechToTextTranscription:
		if r.SpeechToTextTranscription != nil {
			return r.SpeechToTextTranscription(ctx, e)
		}
	case *VoiceRemovalNotice:
		if r.VoiceRemovalNotice != nil {
			return r.VoiceRemovalNotice(ctx, e)
		}
	case *VoiceRemovalNoticeWithdrawn:
		if r.VoiceRemovalNoticeWithdrawn != nil {
			return r.VoiceRemovalNoticeWithdrawn(ctx, e)
		}
	case *VoiceRemoved:
		if r.VoiceRemoved != nil {
			return r.VoiceRemoved(ctx, e)
		}
	case *ProjectConversionStatus:
		if r.ProjectConversionStatus != nil {
			return r.ProjectConversionStatus(ctx, e)
		}
	case *ChapterConversionStatus:
		if r.ChapterConversionStatus != nil {
			return r.ChapterConversionStatus(ctx, e)
		}
	}
	if r.Fallback != nil {
		return r.Fallback(ctx, ev)
	}
	return nil
}

// DispatchOnce is Dispatch for a message with an idempotency key (the
// queued message's content_sha256 attribute): with r.Seen set, a key seen
// before is skipped (duplicate true, nil error). A failed or panicking
// dispatch forgets the key again, so that the redelivered message is
// handled. A process killed mid-dispatch (a Lambda timeout) leaves the key
// marked: give a persistent Seen a lease shorter than the queue's
// visibility timeout or ack deadline (see Seen).
func (r *Router) DispatchOnce(ctx context.Context, key string, body []byte) (duplicate bool, err error) {
	if r.Seen == nil || key == "" {
		return false, r.Dispatch(ctx, body)
	}
	seen, err := r.Seen.SeenBefore(ctx, key)
	if err != nil {
		return false, err
	}
	if seen {
		return true, nil
	}
	// A handler that panics must not leave its key marked: the platform
	// redelivers the message, and a persistent Seen would then drop it.
	defer func() {
		if p := recover(); p != nil {
			_ = r.Seen.Forget(context.WithoutCancel(ctx), key)
			panic(p)
		}
	}()
	if err := r.Dispatch(ctx, body); err != nil {
		if ferr := r.Seen.Forget(context.WithoutCancel(ctx), key); ferr != nil {
			return false, errors.Join(err, ferr)
		}
		return false, err
	}
	return false, nil
}
