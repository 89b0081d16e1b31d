variable "project_id" {
  description = "Google Cloud project to deploy into."
  type        = string
}

variable "region" {
  description = "Region of the function and its buckets."
  type        = string
  default     = "europe-west1"
}

variable "name" {
  description = "Prefix of every resource name."
  type        = string
  default     = "elevenrelay"
}

variable "source_zip_path" {
  description = "The zip written by `make gcf-source`; a relative path is taken from the repository root."
  type        = string
  default     = "dist/gcf-source.zip"
}

variable "webhook_secret" {
  description = "The ElevenLabs webhook secret; null to add the secret version yourself before the function is created (it then stays out of the Terraform state)."
  type        = string
  default     = null
  sensitive   = true
}

variable "log_level" {
  description = "Level of the function's JSON log lines: debug, info, warn or error."
  type        = string
  default     = "info"
}

variable "pubsub_ordering" {
  description = "Publish with ordering key conversation_id and order the example subscription."
  type        = bool
  default     = false
}

variable "build_service_account" {
  description = "Service account Cloud Build builds the function as (projects/P/serviceAccounts/EMAIL); null for the project's default, which a fresh project must grant roles/cloudbuild.builds.builder first."
  type        = string
  default     = null
}

variable "enable_alarms" {
  description = "Create the log-based metrics and alert policies."
  type        = bool
  default     = true
}

variable "notification_channels" {
  description = "Monitoring notification channel IDs for the alert policies."
  type        = list(string)
  default     = []
}

variable "force_destroy_buckets" {
  description = "Let terraform destroy delete the buckets with their objects."
  type        = bool
  default     = false
}

variable "bad_request_alarm_threshold" {
  description = "400 answers in an hour above which the bad-requests alarm fires (a wrong or rotated secret)."
  type        = number
  default     = 5
}
