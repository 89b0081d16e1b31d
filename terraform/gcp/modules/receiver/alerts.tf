# The function logs one JSON line per request (jsonPayload in Cloud Logging);
# "spilled" means Pub/Sub failed and the body went to spill/: run the replay.
resource "google_logging_metric" "spilled" {
  count = var.enable_alarms ? 1 : 0

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
  count = var.enable_alarms ? 1 : 0

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
  count = var.enable_alarms ? 1 : 0

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

# Every 5xx the function's Cloud Run service answered: the function failing
# closed (500: no secret or unusable configuration), neither Pub/Sub nor the
# bucket taking an event (503), or the function crashing or timing out.
resource "google_monitoring_alert_policy" "server_errors" {
  count = var.enable_alarms ? 1 : 0

  project               = var.project_id
  display_name          = "${var.name}: webhook endpoint answered 5xx"
  combiner              = "OR"
  notification_channels = var.notification_channels

  conditions {
    display_name = "5xx answers of ${google_cloudfunctions2_function.webhook.name} > 0"

    condition_threshold {
      filter          = "metric.type=\"run.googleapis.com/request_count\" AND resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${google_cloudfunctions2_function.webhook.name}\" AND metric.labels.response_code_class=\"5xx\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  documentation {
    content = "The webhook endpoint answered 5xx, so ElevenLabs' events were not accepted. The function's log lines (outcome \"error\") say why: a function that fails closed logs \"refusing every request until this is fixed\" when it starts."
  }
}

# The function's own 500s: it fails closed (no secret version, no topic, an
# unusable setting) and refuses every request until redeployed or fixed.
resource "google_logging_metric" "fail_closed" {
  count = var.enable_alarms ? 1 : 0

  project = var.project_id
  name    = "${var.name}/fail_closed"
  filter  = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${google_cloudfunctions2_function.webhook.name}\" AND jsonPayload.outcome=\"error\" AND jsonPayload.status=500"

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"
  }
}

resource "google_monitoring_alert_policy" "fail_closed" {
  count = var.enable_alarms ? 1 : 0

  project               = var.project_id
  display_name          = "${var.name}: webhook function fails closed (500)"
  combiner              = "OR"
  notification_channels = var.notification_channels

  conditions {
    display_name = "500 answers > 0"

    condition_threshold {
      filter          = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.fail_closed[0].name}\" AND resource.type=\"cloud_run_revision\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  documentation {
    content = "The function refuses every request with 500: it has no usable secret or configuration. Add a version to the secret ${google_secret_manager_secret.webhook.secret_id} or fix the setting its \"refusing every request\" log line names, then redeploy (new instances read the secret)."
  }
}

# The function answers 400 when a signature is missing or does not verify. A
# few come from scanners; many in an hour usually mean ElevenLabs signs with a
# secret the function does not have (a wrong or rotated secret).
resource "google_logging_metric" "bad_requests" {
  count = var.enable_alarms ? 1 : 0

  project = var.project_id
  name    = "${var.name}/bad_requests"
  filter  = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${google_cloudfunctions2_function.webhook.name}\" AND jsonPayload.status=400"

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"
  }
}

resource "google_monitoring_alert_policy" "bad_requests" {
  count = var.enable_alarms ? 1 : 0

  project               = var.project_id
  display_name          = "${var.name}: sustained 400s (wrong or rotated webhook secret?)"
  combiner              = "OR"
  notification_channels = var.notification_channels

  conditions {
    display_name = "400 answers in an hour > ${var.bad_request_alarm_threshold}"

    condition_threshold {
      filter          = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.bad_requests[0].name}\" AND resource.type=\"cloud_run_revision\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.bad_request_alarm_threshold
      duration        = "0s"

      aggregations {
        alignment_period     = "3600s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  documentation {
    content = "The function answered 400 (signature missing or not matching) more than ${var.bad_request_alarm_threshold} times in an hour. If the log lines' error is the signature mismatch, the secret in ${google_secret_manager_secret.webhook.secret_id} is not the one ElevenLabs signs with: while rotating, store both, comma separated."
  }
}
