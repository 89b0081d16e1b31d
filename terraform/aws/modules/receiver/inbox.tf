# Storage-first ingest (storage_first = true): a REST API writes each request's
# raw bytes into the claim-check bucket as inbox/<request id>, so bodies up to
# API Gateway's 10 MB get past Lambda's 6 MB invocation limit. S3 tells an
# inbox queue about each object; the same function reads the queue, verifies
# the object and queues the message (or moves the object to rejected/).
#
# Why a queue between S3 and the function rather than S3 invoking it directly:
# S3 -> Lambda is an asynchronous invocation, retried twice within at most six
# hours and then only handed to an on-failure destination; an SQS queue keeps
# each notification up to 14 days, retries it max_receive_count times, lets
# the function report failures per record, and ends in a dead-letter queue
# that can be redriven.

locals {
  storage_first = var.storage_first ? 1 : 0

  # ElevenLabs' webhook egress addresses by region, the same presets as the
  # function's SOURCE_ALLOWLIST (core/allowlist.go).
  elevenlabs_egress = {
    us           = ["34.67.146.145", "34.59.11.47"]
    eu           = ["35.204.38.71", "34.147.113.54"]
    asia         = ["35.185.187.110", "35.247.157.189"]
    eu-residency = ["34.77.234.246", "34.140.184.144"]
    india        = ["34.93.26.174", "34.93.252.69"]
    singapore    = ["34.87.23.17", "34.126.179.103"]
  }
  storage_first_source_ips = distinct(flatten([
    for item in var.storage_first_source_allowlist :
    item == "elevenlabs" ? flatten(values(local.elevenlabs_egress)) :
    startswith(item, "elevenlabs-") ? local.elevenlabs_egress[trimprefix(item, "elevenlabs-")] :
    [item]
  ]))

  storage_first_stage = "v1"
  inbox_prefix        = "inbox/"
  # The function logs one JSON line per object it refuses, with outcome
  # "rejected" and the inbox key. The key tells these apart from the direct
  # path's refusals (also "rejected"), which are the internet knocking.
  rejected_objects_pattern = "{ $.outcome = \"rejected\" && $.key = \"inbox/*\" }"
}

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

# ---------------------------------------------------------------- inbox queue
# S3 notifications cannot target FIFO queues, so this queue is standard
# whatever fifo_queue says; the function still publishes to the main queue as
# configured. A standard dead-letter queue keeps a message's first enqueue
# time, so a notification lives at most 14 days in all: inbox_expiration_days
# must not be shorter.
resource "aws_sqs_queue" "inbox_dead_letter" {
  count = local.storage_first

  name                      = "${var.name}-inbox-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
  tags                      = var.tags
}

resource "aws_sqs_queue" "inbox" {
  count = local.storage_first

  name                      = "${var.name}-inbox"
  message_retention_seconds = 1209600
  # AWS asks for at least six times the function's timeout, so that a batch
  # being retried by Lambda is not handed out a second time meanwhile.
  visibility_timeout_seconds = 6 * local.function_timeout
  sqs_managed_sse_enabled    = true

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.inbox_dead_letter[0].arn
    maxReceiveCount     = var.max_receive_count
  })

  tags = var.tags
}

data "aws_iam_policy_document" "inbox_queue" {
  count = local.storage_first

  statement {
    sid       = "InboxNotificationsFromTheBucket"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.inbox[0].arn]

    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_s3_bucket.claim_check.arn]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_sqs_queue_policy" "inbox" {
  count = local.storage_first

  queue_url = aws_sqs_queue.inbox[0].id
  policy    = data.aws_iam_policy_document.inbox_queue[0].json
}

# S3 checks that it may send to the queue when the notification is written,
# hence the explicit dependency on the queue policy.
resource "aws_s3_bucket_notification" "claim_check" {
  count = local.storage_first

  bucket = aws_s3_bucket.claim_check.id

  queue {
    id            = "inbox"
    queue_arn     = aws_sqs_queue.inbox[0].arn
    events        = ["s3:ObjectCreated:*"]
    filter_prefix = local.inbox_prefix
  }

  depends_on = [aws_sqs_queue_policy.inbox]
}

# ---------------------------------------------------------------- function
# What the function needs beyond the direct path: read and delete inbox
# objects (reading is also what CopyObject needs of its source), write
# rejected ones, and consume the inbox queue. The claim check is a server-side
# copy to elevenlabs/, which the base policy already lets it write.
data "aws_iam_policy_document" "storage_first_function" {
  count = local.storage_first

  statement {
    sid       = "ProcessInboxObjects"
    actions   = ["s3:GetObject", "s3:DeleteObject"]
    resources = ["${aws_s3_bucket.claim_check.arn}/inbox/*"]
  }

  # Without ListBucket, S3 answers GetObject on a missing key 403 instead of
  # 404, and a repeated notification for an object already processed would
  # fail and retry until the dead-letter queue instead of being a no-op. No
  # s3:prefix condition: that check is not a listing of inbox/, so the
  # condition could fail it. It reveals names, not contents.
  statement {
    sid       = "TellMissingInboxObjects"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.claim_check.arn]
  }

  statement {
    sid       = "MoveRejectedObjects"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.claim_check.arn}/rejected/*"]
  }

  statement {
    sid       = "ConsumeInboxQueue"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.inbox[0].arn]
  }
}

resource "aws_iam_role_policy" "storage_first_function" {
  count = local.storage_first

  name   = "storage-first"
  role   = aws_iam_role.webhook.id
  policy = data.aws_iam_policy_document.storage_first_function[0].json
}

# Failures are reported per record (ReportBatchItemFailures): a record whose
# queue or bucket call failed returns to the queue, the others are deleted.
# Five 10 MB objects stream through well within the function's 20 s.
resource "aws_lambda_event_source_mapping" "inbox" {
  count = local.storage_first

  event_source_arn        = aws_sqs_queue.inbox[0].arn
  function_name           = aws_lambda_function.webhook.arn
  batch_size              = 5
  function_response_types = ["ReportBatchItemFailures"]

  # Lambda checks the role's SQS permissions when the mapping is created.
  # After the notification: the test event S3 sends when the notification
  # is written waits in the queue (the function ignores it), which the moto
  # test relies on.
  depends_on = [aws_iam_role_policy.storage_first_function, aws_s3_bucket_notification.claim_check]
}

# ---------------------------------------------------------------- REST API
# A REST API (an HTTP API cannot write to S3 itself), regional, answering on
# <invoke URL>/webhook. Every content type is binary ("*/*") so the body
# reaches S3 byte for byte, and payload compression stays off
# (minimum_compression_size unset), so API Gateway never decodes it.
resource "aws_api_gateway_rest_api" "storage_first" {
  count = local.storage_first

  name               = "${var.name}-storage-first"
  description        = "ElevenLabs webhook endpoint of ${var.name} that stores each request in S3 before verifying it"
  binary_media_types = ["*/*"]
  policy             = length(local.storage_first_source_ips) > 0 ? data.aws_iam_policy_document.storage_first_sources[0].json : null

  endpoint_configuration {
    types = ["REGIONAL"]
  }

  tags = var.tags
}

resource "aws_api_gateway_resource" "storage_first_webhook" {
  count = local.storage_first

  rest_api_id = aws_api_gateway_rest_api.storage_first[0].id
  parent_id   = aws_api_gateway_rest_api.storage_first[0].root_resource_id
  path_part   = "webhook"
}

# The role API Gateway assumes to write the object: PutObject under inbox/
# and nothing else.
data "aws_iam_policy_document" "assume_apigateway" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["apigateway.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "storage_first_api" {
  count = local.storage_first

  name_prefix        = "${var.name}-inbox-api-"
  assume_role_policy = data.aws_iam_policy_document.assume_apigateway.json
  tags               = var.tags
}

data "aws_iam_policy_document" "storage_first_api" {
  count = local.storage_first

  statement {
    sid       = "StoreRequestsInInbox"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.claim_check.arn}/inbox/*"]
  }
}

resource "aws_iam_role_policy" "storage_first_api" {
  count = local.storage_first

  name   = "store-in-inbox"
  role   = aws_iam_role.storage_first_api[0].id
  policy = data.aws_iam_policy_document.storage_first_api[0].json
}

# POST /webhook: PutObject inbox/<request id>. The signature header and the
# request time (Unix ms) become object metadata (x-amz-meta-*), which the
# function verifies against. A request without the header is stored too, and
# rejected by the function.
resource "aws_api_gateway_method" "storage_first_post" {
  count = local.storage_first

  rest_api_id   = aws_api_gateway_rest_api.storage_first[0].id
  resource_id   = aws_api_gateway_resource.storage_first_webhook[0].id
  http_method   = "POST"
  authorization = "NONE"

  # Declared so the integration can map them; false: optional.
  request_parameters = {
    "method.request.header.ElevenLabs-Signature" = false
    "method.request.header.Content-Type"         = false
  }
}

resource "aws_api_gateway_integration" "storage_first_post" {
  count = local.storage_first

  rest_api_id             = aws_api_gateway_rest_api.storage_first[0].id
  resource_id             = aws_api_gateway_resource.storage_first_webhook[0].id
  http_method             = aws_api_gateway_method.storage_first_post[0].http_method
  type                    = "AWS"
  integration_http_method = "PUT"
  uri                     = "arn:${data.aws_partition.current.partition}:apigateway:${data.aws_region.current.name}:s3:path/${aws_s3_bucket.claim_check.id}/inbox/{key}"
  credentials             = aws_iam_role.storage_first_api[0].arn
  # No request templates: the bytes pass through untouched.
  passthrough_behavior = "WHEN_NO_TEMPLATES"

  request_parameters = {
    "integration.request.path.key"                               = "context.requestId"
    "integration.request.header.x-amz-meta-elevenlabs-signature" = "method.request.header.ElevenLabs-Signature"
    "integration.request.header.x-amz-meta-received-at"          = "context.requestTimeEpoch"
    "integration.request.header.Content-Type"                    = "method.request.header.Content-Type"
  }
}

# The answers: 200 only when S3 answered 2xx; S3's 5xx becomes 503 and
# anything else (a 4xx means our configuration is wrong) 500, both of which
# ElevenLabs retries where retries are on.
locals {
  storage_first_post_responses = {
    "200" = { pattern = "2\\d{2}", body = "{\"status\":\"stored\"}" }
    "503" = { pattern = "5\\d{2}", body = "{\"error\":\"storage unavailable\"}" }
    "500" = { pattern = null, body = "{\"error\":\"storage refused the request\"}" }
  }
}

resource "aws_api_gateway_method_response" "storage_first_post" {
  for_each = var.storage_first ? local.storage_first_post_responses : {}

  rest_api_id = aws_api_gateway_rest_api.storage_first[0].id
  resource_id = aws_api_gateway_resource.storage_first_webhook[0].id
  http_method = aws_api_gateway_method.storage_first_post[0].http_method
  status_code = each.key

  response_parameters = {
    "method.response.header.Content-Type" = true
  }
}

resource "aws_api_gateway_integration_response" "storage_first_post" {
  for_each = var.storage_first ? local.storage_first_post_responses : {}

  rest_api_id       = aws_api_gateway_rest_api.storage_first[0].id
  resource_id       = aws_api_gateway_resource.storage_first_webhook[0].id
  http_method       = aws_api_gateway_method.storage_first_post[0].http_method
  status_code       = aws_api_gateway_method_response.storage_first_post[each.key].status_code
  selection_pattern = each.value.pattern

  response_parameters = {
    "method.response.header.Content-Type" = "'application/json'"
  }
  response_templates = {
    "application/json" = each.value.body
  }

  depends_on = [aws_api_gateway_integration.storage_first_post]
}

# Any other method: 405 with Allow: POST, answered by API Gateway itself.
resource "aws_api_gateway_method" "storage_first_other" {
  count = local.storage_first

  rest_api_id   = aws_api_gateway_rest_api.storage_first[0].id
  resource_id   = aws_api_gateway_resource.storage_first_webhook[0].id
  http_method   = "ANY"
  authorization = "NONE"
}

resource "aws_api_gateway_integration" "storage_first_other" {
  count = local.storage_first

  rest_api_id = aws_api_gateway_rest_api.storage_first[0].id
  resource_id = aws_api_gateway_resource.storage_first_webhook[0].id
  http_method = aws_api_gateway_method.storage_first_other[0].http_method
  type        = "MOCK"
  # Every type is binary on this API; the mock's template needs text.
  content_handling     = "CONVERT_TO_TEXT"
  passthrough_behavior = "WHEN_NO_MATCH"

  request_templates = {
    "application/json" = "{\"statusCode\": 200}"
  }
}

resource "aws_api_gateway_method_response" "storage_first_other" {
  count = local.storage_first

  rest_api_id = aws_api_gateway_rest_api.storage_first[0].id
  resource_id = aws_api_gateway_resource.storage_first_webhook[0].id
  http_method = aws_api_gateway_method.storage_first_other[0].http_method
  status_code = "405"

  response_parameters = {
    "method.response.header.Allow"        = true
    "method.response.header.Content-Type" = true
  }
}

resource "aws_api_gateway_integration_response" "storage_first_other" {
  count = local.storage_first

  rest_api_id = aws_api_gateway_rest_api.storage_first[0].id
  resource_id = aws_api_gateway_resource.storage_first_webhook[0].id
  http_method = aws_api_gateway_method.storage_first_other[0].http_method
  status_code = aws_api_gateway_method_response.storage_first_other[0].status_code

  response_parameters = {
    "method.response.header.Allow"        = "'POST'"
    "method.response.header.Content-Type" = "'application/json'"
  }
  response_templates = {
    "application/json" = "{\"error\":\"method not allowed\"}"
  }

  depends_on = [aws_api_gateway_integration.storage_first_other]
}

# Optional resource policy: only ElevenLabs' egress addresses (or the given
# CIDRs) may call the API; API Gateway answers anyone else 403 before S3.
# "execute-api:/*" is the API's own methods, which avoids a reference cycle.
data "aws_iam_policy_document" "storage_first_sources" {
  count = length(local.storage_first_source_ips) > 0 ? 1 : 0

  statement {
    sid       = "Invoke"
    actions   = ["execute-api:Invoke"]
    resources = ["execute-api:/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }
  }

  statement {
    sid       = "OnlyFromAllowedSources"
    effect    = "Deny"
    actions   = ["execute-api:Invoke"]
    resources = ["execute-api:/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "NotIpAddress"
      variable = "aws:SourceIp"
      values   = local.storage_first_source_ips
    }
  }
}

# A REST API serves a deployment's snapshot: redeploy whenever the methods,
# integrations or the resource policy change.
resource "aws_api_gateway_deployment" "storage_first" {
  count = local.storage_first

  rest_api_id = aws_api_gateway_rest_api.storage_first[0].id

  triggers = {
    redeployment = sha1(jsonencode([
      aws_api_gateway_rest_api.storage_first[0].binary_media_types,
      aws_api_gateway_rest_api.storage_first[0].policy,
      aws_api_gateway_method.storage_first_post[0],
      aws_api_gateway_integration.storage_first_post[0],
      aws_api_gateway_method_response.storage_first_post,
      aws_api_gateway_integration_response.storage_first_post,
      aws_api_gateway_method.storage_first_other[0],
      aws_api_gateway_integration.storage_first_other[0],
      aws_api_gateway_integration_response.storage_first_other[0],
    ]))
  }

  lifecycle {
    create_before_destroy = true
  }

  depends_on = [
    aws_api_gateway_integration_response.storage_first_post,
    aws_api_gateway_integration_response.storage_first_other,
  ]
}

resource "aws_api_gateway_stage" "storage_first" {
  count = local.storage_first

  rest_api_id   = aws_api_gateway_rest_api.storage_first[0].id
  deployment_id = aws_api_gateway_deployment.storage_first[0].id
  stage_name    = local.storage_first_stage
  tags          = var.tags
}

# The same throttling as the direct endpoint, for every method.
resource "aws_api_gateway_method_settings" "storage_first" {
  count = local.storage_first

  rest_api_id = aws_api_gateway_rest_api.storage_first[0].id
  stage_name  = aws_api_gateway_stage.storage_first[0].stage_name
  method_path = "*/*"

  settings {
    throttling_burst_limit = var.throttling_burst_limit
    throttling_rate_limit  = var.throttling_rate_limit
  }
}

# ---------------------------------------------------------------- alarms
# ElevenLabs sees 200 as soon as S3 has the bytes, so a wrong secret no longer
# shows as 400s on its side: rejected objects must page someone.
resource "aws_cloudwatch_log_metric_filter" "rejected" {
  count = local.storage_first

  name           = "${var.name}-rejected-objects"
  log_group_name = aws_cloudwatch_log_group.webhook.name
  pattern        = local.rejected_objects_pattern

  metric_transformation {
    namespace = local.spill_metric_ns
    name      = "RejectedObjects"
    value     = "1"
    unit      = "Count"
  }
}

locals {
  storage_first_alarms = var.storage_first && var.enable_alarms ? {
    inbox-dead-letter-queue = {
      description = "Inbox notifications failed processing repeatedly and are in the inbox dead-letter queue; their objects are still in inbox/: fix the cause, then redrive the queue or run the replay."
      namespace   = "AWS/SQS"
      metric      = "ApproximateNumberOfMessagesVisible"
      statistic   = "Maximum"
      dimensions  = { QueueName = aws_sqs_queue.inbox_dead_letter[0].name }
    }
    rejected-objects = {
      description = "Stored webhook requests failed verification and were moved to rejected/ (a wrong or rotated secret, or forgeries): check the rejection metadata."
      namespace   = local.spill_metric_ns
      metric      = "RejectedObjects"
      statistic   = "Sum"
      dimensions  = {}
    }
    storage-first-5xx = {
      description = "The storage-first endpoint answered 5xx (S3 refused or failed the write)."
      namespace   = "AWS/ApiGateway"
      metric      = "5XXError"
      statistic   = "Sum"
      dimensions  = { ApiName = aws_api_gateway_rest_api.storage_first[0].name, Stage = local.storage_first_stage }
    }
  } : {}
}

resource "aws_cloudwatch_metric_alarm" "storage_first" {
  for_each = local.storage_first_alarms

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

# ---------------------------------------------------------------- inputs
variable "storage_first" {
  description = "Also create the storage-first endpoint (output storage_first_webhook_url): a REST API that stores each request in the claim-check bucket (inbox/) before the function verifies it, for bodies up to API Gateway's 10 MB. Use it when ElevenLabs sends post-call audio."
  type        = bool
  default     = false
}

variable "storage_first_source_allowlist" {
  description = "Optional callers admitted by the storage-first endpoint's resource policy: CIDRs, addresses, and the presets elevenlabs (every region) or elevenlabs-<region> (us, eu, asia, eu-residency, india, singapore). Empty admits everyone (the signature is the defence)."
  type        = list(string)
  default     = []

  validation {
    condition = alltrue([
      for item in var.storage_first_source_allowlist :
      item == "elevenlabs" ||
      contains(["elevenlabs-us", "elevenlabs-eu", "elevenlabs-asia", "elevenlabs-eu-residency", "elevenlabs-india", "elevenlabs-singapore"], item) ||
      can(cidrhost(item, 0)) || can(cidrhost("${item}/32", 0)) || can(cidrhost("${item}/128", 0))
    ])
    error_message = "storage_first_source_allowlist takes CIDRs, addresses, elevenlabs and elevenlabs-<region> (us, eu, asia, eu-residency, india, singapore)."
  }
}

variable "inbox_expiration_days" {
  description = "Days stored requests (inbox/) are kept if the function never processed them; 0 keeps them until processed. The function deletes them once queued or rejected, so this is only a backstop: at least 14, the inbox queue's retention."
  type        = number
  default     = 30

  validation {
    condition     = var.inbox_expiration_days == 0 || var.inbox_expiration_days >= 14
    error_message = "inbox_expiration_days must be 0 (never expire) or at least 14."
  }
}

variable "rejected_expiration_days" {
  description = "Days requests that failed verification (rejected/) are kept for inspection."
  type        = number
  default     = 30

  validation {
    condition     = var.rejected_expiration_days >= 1
    error_message = "rejected_expiration_days must be at least 1."
  }
}

# ---------------------------------------------------------------- outputs
output "storage_first_webhook_url" {
  description = "The storage-first endpoint (storage_first = true), else null: paste it into ElevenLabs instead of webhook_url when post-call audio is on."
  value       = var.storage_first ? "${aws_api_gateway_stage.storage_first[0].invoke_url}/webhook" : null
}

output "inbox_queue_url" {
  description = "URL of the queue of inbox notifications (storage_first = true), else null."
  value       = var.storage_first ? aws_sqs_queue.inbox[0].url : null
}

output "inbox_dead_letter_queue_url" {
  description = "URL of the inbox notifications' dead-letter queue (storage_first = true), else null."
  value       = var.storage_first ? aws_sqs_queue.inbox_dead_letter[0].url : null
}
