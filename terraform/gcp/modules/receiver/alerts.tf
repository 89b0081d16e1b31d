# The function logs one JSON line per request (jsonPayload in Cloud Logging);
# "spilled" means Pub/Sub failed and the body went to spill/: run the replay.
resource "google_logging_metric" "spilled" {
  count = var.enable_alerts ? 1 : 0

  project = var.project_id
  name    = "${var.name}/spilled_events"
  filter  = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${google_cloudfunctions2_function.webhook.name}\" AND jsonPayload.outcome=\"spilled\""

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"
  }
}

resource "google_monitoring_alert_policy" "spilled" {
  count = var.enable_alerts ? 1 : 0

  project               = var.project_id
  display_name          = "${var.name}: webhook events spilled to the bucket"
  combiner              = "OR"
  notification_channels = var.notification_channels

  conditions {
    display_name = "spilled events > 0"

    condition_threshold {
      filter          = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.spilled[0].name}\" AND resource.type=\"cloud_run_revision\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"

      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_SUM"
      }
    }
  }

  documentation {
    content = "Pub/Sub failed and webhook bodies were written to gs://${google_storage_bucket.claim_check.name}/spill/. Replay them (make replay)."
  }
}

resource "google_monitoring_alert_policy" "dead_letter" {
  count = var.enable_alerts ? 1 : 0

  project               = var.project_id
  display_name          = "${var.name}: webhook messages dead-lettered"
  combiner              = "OR"
  notification_channels = var.notification_channels

  conditions {
    display_name = "undelivered messages on ${google_pubsub_subscription.dead_letter.name} > 0"

    condition_threshold {
      filter          = "metric.type=\"pubsub.googleapis.com/subscription/num_undelivered_messages\" AND resource.type=\"pubsub_subscription\" AND resource.labels.subscription_id=\"${google_pubsub_subscription.dead_letter.name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"

      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }
}
