output "webhook_url" {
  description = "Paste this into ElevenLabs as the webhook URL (the function answers on any path)."
  value       = google_cloudfunctions2_function.webhook.url
}

output "function_name" {
  description = "Name of the function (and of the Cloud Run service behind it)."
  value       = google_cloudfunctions2_function.webhook.name
}

output "topic_id" {
  description = "Pub/Sub topic the webhook bodies are published to (projects/P/topics/T)."
  value       = google_pubsub_topic.webhook.id
}

output "dead_letter_topic_id" {
  description = "Pub/Sub dead-letter topic of the example subscription."
  value       = google_pubsub_topic.dead_letter.id
}

output "subscription_id" {
  description = "The example pull subscription on the topic."
  value       = google_pubsub_subscription.webhook.id
}

output "dead_letter_subscription_id" {
  description = "Subscription holding dead-lettered messages."
  value       = google_pubsub_subscription.dead_letter.id
}

output "claim_check_bucket_name" {
  description = "GCS bucket of claim-checked (elevenlabs/) and spilled (spill/) bodies."
  value       = google_storage_bucket.claim_check.name
}

output "webhook_secret_id" {
  description = "Secret Manager secret to add the ElevenLabs webhook secret to as a version."
  value       = google_secret_manager_secret.webhook.secret_id
}

output "runtime_service_account_email" {
  description = "Service account the function runs as."
  value       = google_service_account.runtime.email
}
