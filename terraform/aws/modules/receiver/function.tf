resource "aws_cloudwatch_log_group" "webhook" {
  name              = "/aws/lambda/${local.function_name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

data "aws_iam_policy_document" "assume_lambda" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "webhook" {
  name_prefix        = "${var.name}-webhook-"
  assume_role_policy = data.aws_iam_policy_document.assume_lambda.json
  tags               = var.tags
}

data "aws_iam_policy_document" "webhook" {
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.webhook.arn}:*"]
  }

  statement {
    sid = "SendToQueue"
    # GetQueueAttributes: the function reads MaximumMessageSize at start.
    actions   = ["sqs:SendMessage", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.webhook.arn]
  }

  statement {
    sid     = "WriteClaimChecksAndSpills"
    actions = ["s3:PutObject"]
    resources = [
      "${aws_s3_bucket.claim_check.arn}/elevenlabs/*",
      "${aws_s3_bucket.claim_check.arn}/spill/*",
    ]
  }

  statement {
    sid       = "ReadWebhookSecret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.webhook.arn]
  }

  dynamic "statement" {
    for_each = var.enable_tracing ? [1] : []

    content {
      sid = "WriteTraces"
      # X-Ray has no resource-level permissions: AWS requires "*" here.
      actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      resources = ["*"]
    }
  }
}

resource "aws_iam_role_policy" "webhook" {
  name   = "webhook-receiver"
  role   = aws_iam_role.webhook.id
  policy = data.aws_iam_policy_document.webhook.json
}

resource "aws_lambda_function" "webhook" {
  function_name    = local.function_name
  role             = aws_iam_role.webhook.arn
  filename         = var.lambda_zip_path
  source_code_hash = filebase64sha256(var.lambda_zip_path)
  handler          = "bootstrap"
  runtime          = "provided.al2023"
  architectures    = [var.architecture]
  memory_size      = var.memory_size
  timeout          = local.function_timeout
  # -1 is the provider's "no reservation".
  reserved_concurrent_executions = var.reserved_concurrency > 0 ? var.reserved_concurrency : -1

  tracing_config {
    mode = var.enable_tracing ? "Active" : "PassThrough"
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.webhook.name
  }

  environment {
    variables = {
      ELEVENLABS_WEBHOOK_SECRET_ARN = aws_secretsmanager_secret.webhook.arn
      SQS_QUEUE_URL                 = aws_sqs_queue.webhook.url
      CLAIM_CHECK_BUCKET            = aws_s3_bucket.claim_check.id
      WEBHOOK_TOLERANCE             = var.webhook_tolerance
      PUBLISH_TIMEOUT               = var.publish_timeout
      LOG_LEVEL                     = var.log_level
    }
  }

  tags = var.tags

  # The role must be able to log before the first invocation.
  depends_on = [aws_iam_role_policy.webhook]
}

# ---------------------------------------------------------------- HTTP API
# HTTP APIs only serve HTTPS.
resource "aws_apigatewayv2_api" "webhook" {
  name          = "${var.name}-webhook"
  description   = "ElevenLabs webhook endpoint of ${var.name}"
  protocol_type = "HTTP"
  tags          = var.tags
}

resource "aws_apigatewayv2_integration" "webhook" {
  api_id                 = aws_apigatewayv2_api.webhook.id
  integration_type       = "AWS_PROXY"
  integration_method     = "POST"
  integration_uri        = aws_lambda_function.webhook.invoke_arn
  payload_format_version = "2.0"
}

# Every method reaches the function, so that anything but POST gets the
# 405 with Allow: POST of docs/spec.md §2 rather than API Gateway's own 404.
resource "aws_apigatewayv2_route" "webhook" {
  api_id    = aws_apigatewayv2_api.webhook.id
  route_key = "ANY /webhook"
  target    = "integrations/${aws_apigatewayv2_integration.webhook.id}"
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.webhook.id
  name        = "$default"
  auto_deploy = true

  default_route_settings {
    throttling_burst_limit = var.throttling_burst_limit
    throttling_rate_limit  = var.throttling_rate_limit
  }

  tags = var.tags
}

resource "aws_lambda_permission" "api" {
  statement_id  = "AllowHttpApiInvoke"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.webhook.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.webhook.execution_arn}/*/*/webhook"
}

# ---------------------------------------------------------------- function URL
resource "aws_lambda_function_url" "webhook" {
  count = var.enable_function_url ? 1 : 0

  function_name      = aws_lambda_function.webhook.function_name
  authorization_type = "NONE"
}

# With authorization_type NONE the provider adds the public
# lambda:InvokeFunctionUrl statement itself. URLs created since October 2025
# also need lambda:InvokeFunction limited by the condition
# lambda:InvokedViaFunctionUrl: recent 6.x providers add that statement too
# (hashicorp/terraform-provider-aws#44858), but 5.x's aws_lambda_permission
# cannot express the condition, and granting lambda:InvokeFunction to "*"
# without it would open direct invocation to everyone. With a 5.x provider add
# it once by hand (the README and docs/lambda.md show the command).
