// Package webhook holds typed Go values for every ElevenLabs webhook event,
// a Router that hands each event to a typed handler, and a small "seen
// before?" interface for idempotent consumers. It reads the bodies the
// receiver queued (core.Resolve returns them, claim-checked or not) and
// imports no cloud SDK: the consumers for SQS, Pub/Sub and the local spool
// live with their platforms and all dispatch through a Router.
//
// Decoding is lenient where ElevenLabs evolves: an unknown event type
// decodes to *Unknown, fields the types lack are kept in the event's raw
// JSON and written back by json.Marshal, and event_timestamp parses whether
// it arrives as a number or a string. Field names follow the official JS
// SDK's serialization schemas, which a test compares against these types.
package webhook
