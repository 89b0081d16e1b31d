output "webhook_url" {
  description = "Paste this into ElevenLabs as the webhook URL."
  value       = "${aws_apigatewayv2_stage.default.invoke_url}webhook"
}

output "function_url" {
  description = "The function's own public URL when enable_function_url is set (any path reaches the function), else null."
  value       = var.enable_function_url ? aws_lambda_function_url.webhook[0].function_url : null
}

output "function_name" {
  description = "Name of the receiver function."
  value       = aws_lambda_function.webhook.function_name
}

output "queue_url" {
  description = "URL of the SQS queue the webhook bodies land in."
  value       = aws_sqs_queue.webhook.url
}

output "queue_arn" {
  description = "ARN of the SQS queue."
  value       = aws_sqs_queue.webhook.arn
}

output "dead_letter_queue_url" {
  description = "URL of the dead-letter queue."
  value       = aws_sqs_queue.dead_letter.url
}

output "dead_letter_queue_arn" {
  description = "ARN of the dead-letter queue."
  value       = aws_sqs_queue.dead_letter.arn
}

output "claim_check_bucket_name" {
  description = "S3 bucket of claim-checked (elevenlabs/) and spilled (spill/) bodies."
  value       = aws_s3_bucket.claim_check.id
}

output "webhook_secret_arn" {
  description = "Secrets Manager secret to put the ElevenLabs webhook secret in."
  value       = aws_secretsmanager_secret.webhook.arn
}

output "log_group_name" {
  description = "Log group of the function's JSON request lines."
  value       = aws_cloudwatch_log_group.webhook.name
}

output "consumer_policy_arn" {
  description = "Managed policy for consumers of the queue."
  value       = aws_iam_policy.consumer.arn
}

output "replay_policy_arn" {
  description = "Managed policy for operators replaying spilled events."
  value       = aws_iam_policy.replay.arn
}

output "alarm_topic_arn" {
  description = "SNS topic the alarms notify, or null without alarm_email."
  value       = length(aws_sns_topic.alarms) > 0 ? aws_sns_topic.alarms[0].arn : null
}
