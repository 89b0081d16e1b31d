variable "region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as eu-west-1."
  }
}

variable "name" {
  description = "Prefix of every resource name."
  type        = string
  default     = "elevenrelay"
}

variable "lambda_zip_path" {
  description = "The zip written by `make lambda-zip`; a relative path is taken from the repository root."
  type        = string
  default     = "dist/lambda/bootstrap.zip"
}

variable "architecture" {
  description = "Instruction set of the function (arm64, or x86_64 for a zip built with GOARCH=amd64)."
  type        = string
  default     = "arm64"
}

variable "webhook_secret" {
  description = "The ElevenLabs webhook secret; null to set it later with `aws secretsmanager put-secret-value` (it then stays out of the Terraform state)."
  type        = string
  default     = null
  sensitive   = true
}

variable "log_level" {
  description = "Level of the function's JSON log lines: debug, info, warn or error."
  type        = string
  default     = "info"
}

variable "fifo_queue" {
  description = "Use FIFO queues (grouped by conversation_id)."
  type        = bool
  default     = false
}

variable "enable_function_url" {
  description = "Also create a public Lambda Function URL."
  type        = bool
  default     = false
}

variable "enable_alarms" {
  description = "Create the CloudWatch alarms."
  type        = bool
  default     = true
}

variable "alarm_email" {
  description = "Optional e-mail address for the alarms; empty for none."
  type        = string
  default     = ""
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

variable "storage_first" {
  description = "Also create the storage-first endpoint (storage_first_webhook_url), for post-call audio up to 10 MB."
  type        = bool
  default     = false
}

variable "storage_first_source_allowlist" {
  description = "Callers the storage-first endpoint admits: CIDRs, addresses, elevenlabs or elevenlabs-<region>; empty for everyone."
  type        = list(string)
  default     = []
}
