package core

import (
	"errors"
	"net/http"
)

// The signature errors below start with a capital letter on purpose: they
// copy the official SDKs' wording letter for letter (see the block's comment).
//lint:file-ignore ST1005 the SDK wording is kept exactly, capitals included

// Signature errors. Where the official ElevenLabs SDKs have a message for the
// same failure, the text is theirs, so that users searching for it find both.
var (
	ErrMissingSignature   = errors.New("Missing signature header")
	ErrNoSecret           = errors.New("Webhook secret not configured")
	ErrNoV0               = errors.New("No signature hash found with expected scheme v0")
	ErrMalformedTimestamp = errors.New("Invalid timestamp in signature header")
	ErrTimestampTolerance = errors.New("Timestamp outside the tolerance zone")
	ErrSignatureMismatch  = errors.New("Signature hash does not match the expected signature hash for payload")
	// ErrMalformedSignature covers headers that are not key=value parts, that
	// hold two different t values, or that exceed the size caps which bound the work
	// a hostile header can cause.
	ErrMalformedSignature = errors.New("Malformed signature header")
	// ErrConflictingSignature is returned when one request carries two
	// different values of the signature header.
	ErrConflictingSignature = errors.New("Conflicting signature headers")
)

// Request and delivery errors.
var (
	errMethodNotAllowed = errors.New("method not allowed: use POST")
	errBodyTooLarge     = errors.New("request body too large")
	// ErrBodyRead means the client went away or sent a broken body.
	ErrBodyRead = errors.New("request body could not be read")
	// errNeedsClaimCheck means the verified body is larger than the queue
	// accepts and no claim-check bucket is configured.
	errNeedsClaimCheck = errors.New("body exceeds the queue's message size limit and no claim-check bucket is configured (set CLAIM_CHECK_BUCKET)")
	// ErrConfig marks configuration that cannot be used; the receiver then
	// fails closed with 500 rather than accept unverified events.
	ErrConfig = errors.New("configuration unusable")
	// ErrPublish marks a queue (or claim-check store) that failed or timed
	// out; the sender should retry.
	ErrPublish = errors.New("queue unavailable")
	// errForbiddenSource is returned when a source allowlist is configured
	// and the caller's address is not on it.
	errForbiddenSource = errors.New("source address not allowed")
	// ErrClaimCheckMismatch is returned to consumers when a claim-checked
	// object does not have the size or SHA-256 its message promised.
	ErrClaimCheckMismatch = errors.New("claim-check object does not match its message")
)

// statusCodes is the one place errors become HTTP statuses. Anything not
// listed is a 500: an unexpected failure must never turn into a 2xx.
var statusCodes = []struct {
	err    error
	status int
}{
	{errMethodNotAllowed, http.StatusMethodNotAllowed},
	{errBodyTooLarge, http.StatusRequestEntityTooLarge},
	{errNeedsClaimCheck, http.StatusRequestEntityTooLarge},
	{errForbiddenSource, http.StatusForbidden},
	{ErrBodyRead, http.StatusBadRequest},
	{ErrMissingSignature, http.StatusBadRequest},
	{ErrNoV0, http.StatusBadRequest},
	{ErrMalformedTimestamp, http.StatusBadRequest},
	{ErrTimestampTolerance, http.StatusBadRequest},
	{ErrSignatureMismatch, http.StatusBadRequest},
	{ErrMalformedSignature, http.StatusBadRequest},
	{ErrConflictingSignature, http.StatusBadRequest},
	{ErrNoSecret, http.StatusInternalServerError},
	{ErrConfig, http.StatusInternalServerError},
	{ErrPublish, http.StatusServiceUnavailable},
}

// statusOf returns the HTTP status docs/spec.md §2 gives for err.
func statusOf(err error) int {
	if err == nil {
		return http.StatusOK
	}
	for _, c := range statusCodes {
		if errors.Is(err, c.err) {
			return c.status
		}
	}
	return http.StatusInternalServerError
}
