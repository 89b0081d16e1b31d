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
  # One alarm per way an event can go wrong; each fires on the first
  # occurrence in a 5 minute period.
  alarm_definitions = {
    dead-letter-queue = {
      description = "Webhook messages failed processing and are in the dead-letter queue."
      namespace   = "AWS/SQS"
      metric      = "ApproximateNumberOfMessagesVisible"
      statistic   = "Maximum"
      dimensions  = { QueueName = aws_sqs_queue.dead_letter.name }
    }
    function-errors = {
      description = "The webhook function failed (crashed or timed out)."
      namespace   = "AWS/Lambda"
      metric      = "Errors"
      statistic   = "Sum"
      dimensions  = { FunctionName = aws_lambda_function.webhook.function_name }
    }
    function-throttles = {
      description = "Invocations of the webhook function were throttled."
      namespace   = "AWS/Lambda"
      metric      = "Throttles"
      statistic   = "Sum"
      dimensions  = { FunctionName = aws_lambda_function.webhook.function_name }
    }
    api-5xx = {
      description = "The webhook endpoint answered 5xx (no secret, or neither queue nor bucket took the event)."
      namespace   = "AWS/ApiGateway"
      metric      = "5xx"
      statistic   = "Sum"
      dimensions  = { ApiId = aws_apigatewayv2_api.webhook.id, Stage = aws_apigatewayv2_stage.default.name }
    }
    spilled-events = {
      description = "The queue failed and webhook bodies were spilled to the bucket (spill/); run the replay."
      namespace   = local.spill_metric_ns
      metric      = "SpilledEvents"
      statistic   = "Sum"
      dimensions  = {}
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = var.enable_alarms ? local.alarm_definitions : {}

  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  statistic           = each.value.statistic
  dimensions          = each.value.dimensions
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  tags                = var.tags
}
