// Package core decides what happens to an ElevenLabs webhook, whatever platform
// received it: it verifies the ElevenLabs-Signature header over the raw bytes,
// classifies the event, builds the queue message with its attributes, and maps
// every outcome to the HTTP answer docs/spec.md §2 gives.
//
// The platform packages (lambda, gcf, the local server) only adapt: they turn
// their request shape into a [Request], hand it to a [Receiver], and turn the
// [Response] back into their own shape. They implement [Sink] (and, for large
// bodies and outages, [ObjectStore]) for their queue and bucket. core imports
// no cloud SDK, so the rules live and are tested in exactly one place.
package core
