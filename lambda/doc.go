// Package lambda runs the receiver as an AWS Lambda function behind API
// Gateway (REST proxy or HTTP API) or a Function URL, queuing every verified
// webhook in SQS, with large bodies claim-checked through S3 and the secret
// optionally read from Secrets Manager.
//
// The function's binary is ./lambda/bootstrap; [New] builds its handler
// and [NewQueue] the same publishing side for tools such as replay, both
// from an [Options] shaped like gcf's. Consumers of the queue call
// [ResolveMessage] (or [ResolveReceivedMessage] for an SDK poller) with an
// [S3Fetcher] to get the original body back, whether or not it was
// claim-checked.
//
// The same handler takes S3 notifications (directly, or inside the messages
// of an SQS inbox queue) for the requests that the storage-first endpoint
// stored under inbox/: an [Inbox] verifies each object while streaming it
// and queues the message the direct path would have queued, or moves the
// object to rejected/. [NewInbox] builds one for replay. docs/spec.md §6
// is the contract.
package lambda
