# The function logs one JSON line per request; "spilled" means the queue
# failed and the body went to spill/ in the bucket: run the replay.
resource "aws_cloudwatch_log_metric_filter" "spilled" {
  name           = "${var.name}-spilled-events"
  log_group_name = aws_cloudwatch_log_group.webhook.name
  pattern        = "{ $.outcome = \"spilled\" }"

  metric_transformation {
    namespace = local.spill_metric_ns
    name      = "SpilledEvents"
    value     = "1"
    unit      = "Count"
  }
}

# The function answers 400 when a signature does not verify. A few come from
# scanners; many in an hour usually mean ElevenLabs signs with a secret the
# function does not have (a wrong or rotated secret).
resource "aws_cloudwatch_log_metric_filter" "bad_requests" {
  name           = "${var.name}-bad-requests"
  log_group_name = aws_cloudwatch_log_group.webhook.name
  pattern        = "{ $.status = 400 }"

  metric_transformation {
    namespace = local.spill_metric_ns
    name      = "BadRequests"
    value     = "1"
    unit      = "Count"
  }
}

resource "aws_sns_topic" "alarms" {
  count = var.enable_alarms && var.alarm_email != "" ? 1 : 0

  name = "${var.name}-alarms"
  tags = var.tags
}

resource "aws_sns_topic_subscription" "alarm_email" {
  count = var.enable_alarms && var.alarm_email != "" ? 1 : 0

  topic_arn = aws_sns_topic.alarms[0].arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

locals {
  # One alarm per way an event can go wrong. Most fire on the first
  # occurrence in a 5 minute period; bad-requests only on a sustained run.
  alarm_definitions = merge({
    dead-letter-queue = {
      description = "Webhook messages failed processing and are in the dead-letter queue."
      namespace   = "AWS/SQS"
      metric      = "ApproximateNumberOfMessagesVisible"
      statistic   = "Maximum"
      dimensions  = { QueueName = aws_sqs_queue.dead_letter.name }
      period      = 300
      threshold   = 0
    }
    function-errors = {
      description = "The webhook function failed (crashed or timed out)."
      namespace   = "AWS/Lambda"
      metric      = "Errors"
      statistic   = "Sum"
      dimensions  = { FunctionName = aws_lambda_function.webhook.function_name }
      period      = 300
      threshold   = 0
    }
    function-throttles = {
      description = "Invocations of the webhook function were throttled."
      namespace   = "AWS/Lambda"
      metric      = "Throttles"
      statistic   = "Sum"
      dimensions  = { FunctionName = aws_lambda_function.webhook.function_name }
      period      = 300
      threshold   = 0
    }
    api-5xx = {
      description = "The webhook endpoint answered 5xx (no secret, or neither queue nor bucket took the event)."
      namespace   = "AWS/ApiGateway"
      metric      = "5xx"
      statistic   = "Sum"
      dimensions  = { ApiId = aws_apigatewayv2_api.webhook.id, Stage = aws_apigatewayv2_stage.default.name }
      period      = 300
      threshold   = 0
    }
    spilled-events = {
      description = "The queue failed and webhook bodies were spilled to the bucket (spill/); run the replay."
      namespace   = local.spill_metric_ns
      metric      = "SpilledEvents"
      statistic   = "Sum"
      dimensions  = {}
      period      = 300
      threshold   = 0
    }
    bad-requests = {
      description = "The function answered 400 (signature missing or not matching) more than ${var.bad_request_alarm_threshold} times in an hour: is ElevenLabs signing with a secret the function does not have?"
      namespace   = local.spill_metric_ns
      metric      = "BadRequests"
      statistic   = "Sum"
      dimensions  = {}
      period      = 3600
      threshold   = var.bad_request_alarm_threshold
    }
    }, var.enable_function_url ? {
    function-url-5xx = {
      description = "The function URL answered 5xx (no secret, neither queue nor bucket took the event, or the function failed)."
      namespace   = "AWS/Lambda"
      metric      = "Url5xxCount"
      statistic   = "Sum"
      dimensions  = { FunctionName = aws_lambda_function.webhook.function_name }
      period      = 300
      threshold   = 0
    }
  } : {})
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = var.enable_alarms ? local.alarm_definitions : {}

  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  statistic           = each.value.statistic
  dimensions          = each.value.dimensions
  period              = each.value.period
  evaluation_periods  = 1
  threshold           = each.value.threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  tags                = var.tags
}
