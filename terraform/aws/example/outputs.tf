output "webhook_url" {
  description = "Paste this into ElevenLabs as the webhook URL."
  value       = module.receiver.webhook_url
}

output "function_url" {
  description = "The public Function URL, when enabled."
  value       = module.receiver.function_url
}

output "queue_url" {
  description = "URL of the SQS queue."
  value       = module.receiver.queue_url
}

output "dead_letter_queue_url" {
  description = "URL of the dead-letter queue."
  value       = module.receiver.dead_letter_queue_url
}

output "claim_check_bucket_name" {
  description = "S3 claim-check and spill bucket."
  value       = module.receiver.claim_check_bucket_name
}

output "webhook_secret_arn" {
  description = "Secrets Manager secret to put the webhook secret in."
  value       = module.receiver.webhook_secret_arn
}

output "storage_first_webhook_url" {
  description = "The storage-first endpoint, when enabled: the URL for ElevenLabs when post-call audio is on."
  value       = module.receiver.storage_first_webhook_url
}

output "inbox_queue_url" {
  description = "URL of the inbox notifications' queue, when storage_first is on."
  value       = module.receiver.inbox_queue_url
}
