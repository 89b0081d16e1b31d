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
package lambda
