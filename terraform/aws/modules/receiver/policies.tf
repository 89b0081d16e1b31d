# Managed policies to attach to the other parties of the queue; the receiver's
# own role is in function.tf.

data "aws_iam_policy_document" "consumer" {
  statement {
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.webhook.arn]
  }

  # The bodies that claim-checked messages point at.
  statement {
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.claim_check.arn}/elevenlabs/*"]
  }
}

resource "aws_iam_policy" "consumer" {
  name_prefix = "${var.name}-consumer-"
  description = "Consume webhook messages of ${var.name}"
  policy      = data.aws_iam_policy_document.consumer.json
  tags        = var.tags
}

data "aws_iam_policy_document" "replay" {
  statement {
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.claim_check.arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["spill/*"]
    }
  }

  statement {
    actions   = ["s3:GetObject", "s3:DeleteObject"]
    resources = ["${aws_s3_bucket.claim_check.arn}/spill/*"]
  }

  # A replayed body larger than the queue's limit is claim-checked again.
  statement {
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.claim_check.arn}/elevenlabs/*"]
  }

  statement {
    actions   = ["sqs:SendMessage", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.webhook.arn]
  }

  # With storage_first the replay also processes stored requests that the
  # function has not (inbox/), as the function would: queue or reject them.
  dynamic "statement" {
    for_each = var.storage_first ? [1] : []

    content {
      actions   = ["s3:ListBucket"]
      resources = [aws_s3_bucket.claim_check.arn]

      condition {
        test     = "StringLike"
        variable = "s3:prefix"
        values   = ["inbox/*"]
      }
    }
  }

  dynamic "statement" {
    for_each = var.storage_first ? [1] : []

    content {
      actions   = ["s3:GetObject", "s3:DeleteObject"]
      resources = ["${aws_s3_bucket.claim_check.arn}/inbox/*"]
    }
  }

  dynamic "statement" {
    for_each = var.storage_first ? [1] : []

    content {
      actions   = ["s3:PutObject"]
      resources = ["${aws_s3_bucket.claim_check.arn}/rejected/*"]
    }
  }
}

resource "aws_iam_policy" "replay" {
  name_prefix = "${var.name}-replay-"
  description = "Replay spilled webhook events of ${var.name} into its queue"
  policy      = data.aws_iam_policy_document.replay.json
  tags        = var.tags
}
