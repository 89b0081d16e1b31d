// Package gcf is the Cloud Functions (2nd gen) entrypoint: an HTTP function
// named ElevenLabsWebhook that hands each request to core's Receiver, which
// publishes verified events to a Pub/Sub topic, claim-checks bodies too
// large for Pub/Sub in a Cloud Storage bucket, and spills to that bucket
// when Pub/Sub fails.
//
// The package registers the function in init with the Functions Framework,
// so deploying it takes no main: Cloud Functions' Go buildpack generates one
// that imports the package and calls funcframework.Start. `make gcf-source`
// builds the source zip that gcloud and Terraform upload.
//
// Consumers of the topic call [ResolveMessage] with a [Fetcher] to get the
// original bytes of a message, claim-checked or not.
package gcf
