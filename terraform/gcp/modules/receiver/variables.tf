variable "project_id" {
  description = "Google Cloud project to deploy into."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project ID (6-30 lower-case letters, digits and '-')."
  }
}

variable "region" {
  description = "Region of the function and its buckets, e.g. europe-west1."
  type        = string
  default     = "europe-west1"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a Google Cloud region such as europe-west1."
  }
}

variable "name" {
  description = "Prefix of every resource name (function, topics, subscription, service account, buckets)."
  type        = string
  default     = "elevenrelay"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,18}[a-z0-9]$", var.name))
    error_message = "name must be 4-20 lower-case letters, digits and '-', starting with a letter (it is part of the service account ID)."
  }
}

variable "source_zip_path" {
  description = "Path of the function's source zip, as written by `make gcf-source` (dist/gcf-source.zip)."
  type        = string

  validation {
    condition     = endswith(var.source_zip_path, ".zip")
    error_message = "source_zip_path must name a .zip file."
  }
}

variable "runtime" {
  description = "Cloud Functions Go runtime ID (goNNN)."
  type        = string
  default     = "go126"

  validation {
    condition     = can(regex("^go1[0-9]{2}$", var.runtime))
    error_message = "runtime must be a Go runtime ID such as go126."
  }
}

variable "build_service_account" {
  description = "Service account Cloud Build builds the function as (projects/P/serviceAccounts/EMAIL). null: the project's default build service account, which in projects created since mid-2024 has no rights until granted (see the module's documentation)."
  type        = string
  default     = null

  validation {
    condition     = var.build_service_account == null || can(regex("^projects/[^/]+/serviceAccounts/[^/]+@[^/]+$", var.build_service_account))
    error_message = "build_service_account must be null or projects/PROJECT/serviceAccounts/EMAIL."
  }
}

variable "available_memory" {
  description = "Memory of each function instance (Cloud Run notation, e.g. 256M)."
  type        = string
  default     = "256M"

  validation {
    condition     = can(regex("^[0-9]+(M|Mi|G|Gi)$", var.available_memory))
    error_message = "available_memory must look like 256M or 1Gi."
  }
}

variable "max_instance_count" {
  description = "Upper bound on concurrent function instances."
  type        = number
  default     = 10

  validation {
    condition     = var.max_instance_count >= 1
    error_message = "max_instance_count must be at least 1."
  }
}

variable "webhook_secret" {
  description = "The ElevenLabs webhook secret (or several, comma separated, while rotating). null: add the version yourself (gcloud secrets versions add) before the function is created, since Cloud Run checks the secret's latest version when it deploys."
  type        = string
  default     = null
  sensitive   = true
}

variable "log_level" {
  description = "Level of the function's JSON log lines (LOG_LEVEL)."
  type        = string
  default     = "info"

  validation {
    condition     = contains(["debug", "info", "warn", "error"], var.log_level)
    error_message = "log_level must be debug, info, warn or error."
  }
}

variable "webhook_tolerance" {
  description = "Accepted age (and future skew) of the signature timestamp, as a Go duration (WEBHOOK_TOLERANCE)."
  type        = string
  default     = "30m"

  validation {
    condition     = can(regex("^([0-9]+(\\.[0-9]+)?(ns|us|ms|s|m|h))+$", var.webhook_tolerance))
    error_message = "webhook_tolerance must be a Go duration such as 30m."
  }
}

variable "publish_timeout" {
  description = "Bound on the Pub/Sub publish, as a Go duration (PUBLISH_TIMEOUT); keep it well under the function's 20 s timeout."
  type        = string
  default     = "10s"

  validation {
    condition     = can(regex("^([0-9]+(\\.[0-9]+)?(ns|us|ms|s|m|h))+$", var.publish_timeout))
    error_message = "publish_timeout must be a Go duration such as 10s."
  }
}

variable "pubsub_ordering" {
  description = "Publish with ordering key conversation_id (PUBSUB_ORDERING) and enable message ordering on the example subscription."
  type        = bool
  default     = false
}

variable "max_delivery_attempts" {
  description = "Deliveries of a message on the subscription before Pub/Sub forwards it to the dead-letter topic (5-100)."
  type        = number
  default     = 5

  validation {
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 100
    error_message = "max_delivery_attempts must be between 5 and 100."
  }
}

variable "ack_deadline_seconds" {
  description = "Ack deadline of the example subscription."
  type        = number
  default     = 60

  validation {
    condition     = var.ack_deadline_seconds >= 10 && var.ack_deadline_seconds <= 600
    error_message = "ack_deadline_seconds must be between 10 and 600."
  }
}

variable "claim_check_expiration_days" {
  description = "Days claim-check objects (elevenlabs/) are kept; keep it at least as long as messages can wait in the subscriptions (7 days)."
  type        = number
  default     = 14

  validation {
    condition     = var.claim_check_expiration_days >= 1
    error_message = "claim_check_expiration_days must be at least 1."
  }
}

variable "spill_expiration_days" {
  description = "Days spilled events (spill/) are kept; 0 keeps them until the replay deletes them. They never reached the topic, so leave operators time to replay them."
  type        = number
  default     = 30

  validation {
    condition     = var.spill_expiration_days >= 0
    error_message = "spill_expiration_days must be 0 (never expire) or more."
  }
}

variable "force_destroy_buckets" {
  description = "Let terraform destroy delete the buckets with their objects (spilled events included)."
  type        = bool
  default     = false
}

variable "enable_alarms" {
  description = "Create the log-based metrics and the alert policies (5xx answers, failing closed, spilled events, dead-lettered messages, sustained 400s)."
  type        = bool
  default     = true
}

variable "bad_request_alarm_threshold" {
  description = "The bad-requests alert fires when the function answers 400 (signature missing or not matching) more than this many times in an hour, as a wrong or rotated secret makes it do."
  type        = number
  default     = 5

  validation {
    condition     = var.bad_request_alarm_threshold >= 0
    error_message = "bad_request_alarm_threshold must be 0 or more."
  }
}

variable "notification_channels" {
  description = "Monitoring notification channel IDs (projects/P/notificationChannels/N) the alert policies notify."
  type        = list(string)
  default     = []
}

variable "labels" {
  description = "Labels added to every resource that takes them."
  type        = map(string)
  default     = {}
}
