# An example root: `make gcf-source`, then from the repository root
#   terraform -chdir=terraform/gcp/example init
#   terraform -chdir=terraform/gcp/example apply -var project_id=YOUR_PROJECT
terraform {
  required_version = ">= 1.5"

  required_providers {
    # Validated with 7.45.0 (terraform validate, a plan and an apply of the
    # Pub/Sub and Storage resources on emulators in go test ./terraform/...).
    google = {
      source  = "hashicorp/google"
      version = ">= 7.0, < 8.0"
    }
  }
}

provider "google" {
  project = var.project_id
  region  = var.region
}

locals {
  # A relative source_zip_path is taken from the repository root, wherever
  # terraform runs from.
  source_zip_path = startswith(var.source_zip_path, "/") ? var.source_zip_path : "${path.root}/../../../${var.source_zip_path}"
}

module "receiver" {
  source = "../modules/receiver"

  project_id                  = var.project_id
  region                      = var.region
  name                        = var.name
  source_zip_path             = local.source_zip_path
  webhook_secret              = var.webhook_secret
  log_level                   = var.log_level
  pubsub_ordering             = var.pubsub_ordering
  build_service_account       = var.build_service_account
  enable_alarms               = var.enable_alarms
  bad_request_alarm_threshold = var.bad_request_alarm_threshold
  notification_channels       = var.notification_channels
  force_destroy_buckets       = var.force_destroy_buckets
}
