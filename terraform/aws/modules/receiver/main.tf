locals {
  function_name = "${var.name}-webhook"
  # Comfortably above publish_timeout (10 s by default): a timed-out queue
  # call still leaves time to spill the body to the bucket and answer.
  function_timeout = 20
  queue_suffix     = var.fifo_queue ? ".fifo" : ""
  alarms           = var.enable_alarms ? 1 : 0
  alarm_actions    = var.enable_alarms && var.alarm_email != "" ? [aws_sns_topic.alarms[0].arn] : []
  spill_metric_ns  = "ElevenRelay/${var.name}"
}

# ---------------------------------------------------------------- secret
# The value comes from ElevenLabs, so it is never generated here.
resource "aws_secretsmanager_secret" "webhook" {
  name_prefix = "${var.name}-webhook-secret-"
  description = "ElevenLabs webhook secret (comma separated while rotating) for ${var.name}"
  tags        = var.tags
}

resource "aws_secretsmanager_secret_version" "webhook" {
  # Only whether a value was given is used here, never the value.
  count = nonsensitive(var.webhook_secret != null) ? 1 : 0

  secret_id     = aws_secretsmanager_secret.webhook.id
  secret_string = var.webhook_secret
}

# ---------------------------------------------------------------- queues
resource "aws_sqs_queue" "dead_letter" {
  name             = "${var.name}-webhook-dlq${local.queue_suffix}"
  fifo_queue       = var.fifo_queue
  max_message_size = var.max_message_size
  # The maximum, longer than the source queue's: in a standard queue a message
  # keeps its original enqueue time when it is moved here, so it can wait 14
  # days in all. A FIFO dead-letter queue restarts the message's age, so there
  # it can wait 4 + 14 = 18 days; claim_check_expiration_days (default 21)
  # keeps the claim-check objects at least that long.
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
  tags                      = var.tags
}

resource "aws_sqs_queue" "webhook" {
  name       = "${var.name}-webhook${local.queue_suffix}"
  fifo_queue = var.fifo_queue
  # The function sets MessageDeduplicationId to the body's SHA-256 itself.
  content_based_deduplication = false
  max_message_size            = var.max_message_size
  message_retention_seconds   = 345600
  visibility_timeout_seconds  = 300
  sqs_managed_sse_enabled     = true

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letter.arn
    maxReceiveCount     = var.max_receive_count
  })

  tags = var.tags
}

# ---------------------------------------------------------------- bucket
resource "aws_s3_bucket" "claim_check" {
  bucket_prefix = "${var.name}-claim-check-"
  force_destroy = var.force_destroy_buckets
  tags          = var.tags
}

resource "aws_s3_bucket_public_access_block" "claim_check" {
  bucket = aws_s3_bucket.claim_check.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "claim_check" {
  bucket = aws_s3_bucket.claim_check.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "claim_check" {
  bucket = aws_s3_bucket.claim_check.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "claim_check" {
  bucket = aws_s3_bucket.claim_check.id

  rule {
    id     = "expire-claim-checks"
    status = "Enabled"

    filter {
      prefix = "elevenlabs/"
    }

    expiration {
      days = var.claim_check_expiration_days
    }
  }

  # spill/ objects are deleted by the replay once queued; this expiry is only a
  # backstop, and off when spill_expiration_days is 0.
  rule {
    id     = "expire-spills"
    status = var.spill_expiration_days > 0 ? "Enabled" : "Disabled"

    filter {
      prefix = "spill/"
    }

    expiration {
      days = max(var.spill_expiration_days, 1)
    }
  }

  # inbox/ holds stored requests until the function has queued or rejected
  # them; like the spill expiry, this one is only a backstop.
  rule {
    id     = "expire-inbox"
    status = var.inbox_expiration_days > 0 ? "Enabled" : "Disabled"

    filter {
      prefix = "inbox/"
    }

    expiration {
      days = max(var.inbox_expiration_days, 1)
    }
  }

  rule {
    id     = "expire-rejected"
    status = "Enabled"

    filter {
      prefix = "rejected/"
    }

    expiration {
      days = var.rejected_expiration_days
    }
  }

  rule {
    id     = "abort-incomplete-uploads"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

data "aws_iam_policy_document" "claim_check_tls_only" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.claim_check.arn,
      "${aws_s3_bucket.claim_check.arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "claim_check" {
  bucket = aws_s3_bucket.claim_check.id
  policy = data.aws_iam_policy_document.claim_check_tls_only.json

  # S3 refuses policies while the public access block is being written.
  depends_on = [aws_s3_bucket_public_access_block.claim_check]
}
