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

variable "pubsub_ordering" {
  description = "Publish with ordering key conversation_id and order the example subscription."
  type        = bool
  default     = false
}

variable "notification_channels" {
  description = "Monitoring notification channel IDs for the alert policies."
  type        = list(string)
  default     = []
}
