locals {
  function_name = "${var.name}-webhook"
  # Comfortably above publish_timeout (10 s by default): a timed-out publish
  # still leaves time to spill the body to the bucket and answer.
  function_timeout_seconds = 20
  # Pub/Sub's own service agent forwards undeliverable messages to the
  # dead-letter topic; it needs rights on both ends.
  pubsub_service_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}

data "google_project" "this" {
  project_id = var.project_id
}

# ---------------------------------------------------------------- secret
# The value comes from ElevenLabs, so it is never generated here.
resource "google_secret_manager_secret" "webhook" {
  project   = var.project_id
  secret_id = "${var.name}-webhook-secret"
  labels    = var.labels

  replication {
    auto {}
  }
}

resource "google_secret_manager_secret_version" "webhook" {
  # Only whether a value was given is used here, never the value.
  count = nonsensitive(var.webhook_secret != null) ? 1 : 0

  secret      = google_secret_manager_secret.webhook.id
  secret_data = var.webhook_secret
}

# ---------------------------------------------------------------- Pub/Sub
resource "google_pubsub_topic" "webhook" {
  project = var.project_id
  name    = "${var.name}-webhook"
  labels  = var.labels
}

resource "google_pubsub_topic" "dead_letter" {
  project = var.project_id
  name    = "${var.name}-webhook-dlq"
  labels  = var.labels
}

# An example consumer subscription; consumers may add their own.
resource "google_pubsub_subscription" "webhook" {
  project = var.project_id
  name    = "${var.name}-webhook"
  topic   = google_pubsub_topic.webhook.id
  labels  = var.labels

  ack_deadline_seconds       = var.ack_deadline_seconds
  message_retention_duration = "604800s"
  enable_message_ordering    = var.pubsub_ordering

  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter.id
    max_delivery_attempts = var.max_delivery_attempts
  }

  expiration_policy {
    ttl = ""
  }
}

# Messages published to a topic without subscriptions are dropped: this one
# keeps dead-lettered messages for inspection and redelivery.
resource "google_pubsub_subscription" "dead_letter" {
  project = var.project_id
  name    = "${var.name}-webhook-dlq"
  topic   = google_pubsub_topic.dead_letter.id
  labels  = var.labels

  message_retention_duration = "604800s"

  expiration_policy {
    ttl = ""
  }
}

resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  project = var.project_id
  topic   = google_pubsub_topic.dead_letter.name
  role    = "roles/pubsub.publisher"
  member  = local.pubsub_service_agent
}

resource "google_pubsub_subscription_iam_member" "dead_letter_subscriber" {
  project      = var.project_id
  subscription = google_pubsub_subscription.webhook.name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent
}

# ---------------------------------------------------------------- buckets
resource "google_storage_bucket" "claim_check" {
  project                     = var.project_id
  name                        = "${var.project_id}-${var.name}-claim-check"
  location                    = upper(var.region)
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = var.force_destroy_buckets
  labels                      = var.labels

  lifecycle_rule {
    condition {
      age            = var.claim_check_expiration_days
      matches_prefix = ["elevenlabs/"]
    }
    action {
      type = "Delete"
    }
  }

  # spill/ objects are deleted by the replay once published; this expiry is
  # only a backstop, and absent when spill_expiration_days is 0.
  dynamic "lifecycle_rule" {
    for_each = var.spill_expiration_days > 0 ? [var.spill_expiration_days] : []

    content {
      condition {
        age            = lifecycle_rule.value
        matches_prefix = ["spill/"]
      }
      action {
        type = "Delete"
      }
    }
  }
}

resource "google_storage_bucket" "source" {
  project                     = var.project_id
  name                        = "${var.project_id}-${var.name}-gcf-source"
  location                    = upper(var.region)
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = var.force_destroy_buckets
  labels                      = var.labels
}

# Named by content, so a new `make gcf-source` redeploys the function.
resource "google_storage_bucket_object" "source" {
  bucket = google_storage_bucket.source.name
  name   = "${local.function_name}/source-${filemd5(var.source_zip_path)}.zip"
  source = var.source_zip_path
}

# ---------------------------------------------------------------- runtime identity
resource "google_service_account" "runtime" {
  project      = var.project_id
  account_id   = "${var.name}-fn"
  display_name = "${local.function_name} runtime"
  description  = "Runs the ElevenLabs webhook receiver: publishes to its topic, reads its secret, creates objects in its bucket."
}

# Exactly these three grants, each on one resource, nothing project-wide.
resource "google_pubsub_topic_iam_member" "runtime_publisher" {
  project = var.project_id
  topic   = google_pubsub_topic.webhook.name
  role    = "roles/pubsub.publisher"
  member  = google_service_account.runtime.member
}

resource "google_secret_manager_secret_iam_member" "runtime_accessor" {
  project   = var.project_id
  secret_id = google_secret_manager_secret.webhook.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.runtime.member
}

# Claim checks and spills only ever create objects.
resource "google_storage_bucket_iam_member" "runtime_object_creator" {
  bucket = google_storage_bucket.claim_check.name
  role   = "roles/storage.objectCreator"
  member = google_service_account.runtime.member
}

# ---------------------------------------------------------------- function
resource "google_cloudfunctions2_function" "webhook" {
  project     = var.project_id
  location    = var.region
  name        = local.function_name
  description = "Receives ElevenLabs webhooks, verifies them and publishes them to ${google_pubsub_topic.webhook.name}."
  labels      = var.labels

  build_config {
    runtime     = var.runtime
    entry_point = "ElevenLabsWebhook"
    # null: Cloud Functions' default build service account.
    service_account = var.build_service_account

    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    available_memory               = var.available_memory
    timeout_seconds                = local.function_timeout_seconds
    min_instance_count             = 0
    max_instance_count             = var.max_instance_count
    ingress_settings               = "ALLOW_ALL"
    all_traffic_on_latest_revision = true
    service_account_email          = google_service_account.runtime.email

    environment_variables = {
      PUBSUB_TOPIC       = google_pubsub_topic.webhook.id
      CLAIM_CHECK_BUCKET = google_storage_bucket.claim_check.name
      PUBSUB_ORDERING    = tostring(var.pubsub_ordering)
      WEBHOOK_TOLERANCE  = var.webhook_tolerance
      PUBLISH_TIMEOUT    = var.publish_timeout
      LOG_LEVEL          = var.log_level
    }

    # "latest" is read when an instance starts: after rotating, new instances
    # see the new value (set both secrets, comma separated, meanwhile).
    secret_environment_variables {
      key        = "ELEVENLABS_WEBHOOK_SECRET"
      project_id = var.project_id
      secret     = google_secret_manager_secret.webhook.secret_id
      version    = "latest"
    }
  }

  # Deploying checks that the runtime identity can read the secret and publish.
  depends_on = [
    google_secret_manager_secret_iam_member.runtime_accessor,
    google_secret_manager_secret_version.webhook,
    google_pubsub_topic_iam_member.runtime_publisher,
    google_storage_bucket_iam_member.runtime_object_creator,
  ]
}

# The webhook is public: the ElevenLabs signature is its authentication. A
# gen2 function is served by the Cloud Run service of the same name.
resource "google_cloud_run_service_iam_member" "public_invoker" {
  project  = var.project_id
  location = google_cloudfunctions2_function.webhook.location
  service  = google_cloudfunctions2_function.webhook.name
  role     = "roles/run.invoker"
  member   = "allUsers"
}
