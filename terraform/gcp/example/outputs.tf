output "webhook_url" {
  description = "Paste this into ElevenLabs as the webhook URL."
  value       = module.receiver.webhook_url
}

output "topic_id" {
  description = "Pub/Sub topic of the webhook bodies."
  value       = module.receiver.topic_id
}

output "subscription_id" {
  description = "The example pull subscription."
  value       = module.receiver.subscription_id
}

output "claim_check_bucket_name" {
  description = "GCS claim-check and spill bucket."
  value       = module.receiver.claim_check_bucket_name
}

output "webhook_secret_id" {
  description = "Secret Manager secret of the webhook secret."
  value       = module.receiver.webhook_secret_id
}
