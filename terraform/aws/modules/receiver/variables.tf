variable "name" {
  description = "Prefix of every resource name (function, queues, role, bucket prefix)."
  type        = string
  default     = "elevenrelay"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,22}$", var.name))
    error_message = "name must be 1-23 characters of lower-case letters, digits and '-' (it prefixes the bucket name), starting with a letter or digit."
  }
}

variable "lambda_zip_path" {
  description = "Path of the function's deployment zip, as written by `make lambda-zip` (dist/lambda/bootstrap.zip, holding an executable named bootstrap)."
  type        = string

  validation {
    condition     = endswith(var.lambda_zip_path, ".zip")
    error_message = "lambda_zip_path must name a .zip file."
  }
}

variable "architecture" {
  description = "Instruction set of the function; it must match the GOARCH the zip was built for (arm64 or amd64 for x86_64)."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "memory_size" {
  description = "Function memory in MB (CPU scales with it)."
  type        = number
  default     = 256

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "memory_size must be between 128 and 10240."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions of the function; 0 leaves it unset (the account's unreserved pool)."
  type        = number
  default     = 0

  validation {
    condition     = var.reserved_concurrency >= 0 && floor(var.reserved_concurrency) == var.reserved_concurrency
    error_message = "reserved_concurrency must be a whole number, 0 meaning unset."
  }
}

variable "enable_tracing" {
  description = "Turn on AWS X-Ray active tracing for the function."
  type        = bool
  default     = false
}

variable "log_retention_days" {
  description = "Days the function's log lines are kept."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
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

variable "webhook_secret" {
  description = "The ElevenLabs webhook secret (or several, comma separated, while rotating). null creates the secret without a value: set it with `aws secretsmanager put-secret-value`; until then the function answers 500 and accepts nothing."
  type        = string
  default     = null
  sensitive   = true
}

variable "webhook_tolerance" {
  description = "Accepted age (and future skew) of the signature timestamp, as a Go duration (WEBHOOK_TOLERANCE)."
  type        = string
  default     = "30m"

  validation {
    condition     = can(regex("^([0-9]+(\\.[0-9]+)?(ns|us|ms|s|m|h))+$", var.webhook_tolerance))
    error_message = "webhook_tolerance must be a Go duration such as 30m or 1h."
  }
}

variable "publish_timeout" {
  description = "Bound on the queue call, as a Go duration (PUBLISH_TIMEOUT). Keep it well under the function's 20 s timeout so a slow queue still leaves time to spill."
  type        = string
  default     = "10s"

  validation {
    condition     = can(regex("^([0-9]+(\\.[0-9]+)?(ns|us|ms|s|m|h))+$", var.publish_timeout))
    error_message = "publish_timeout must be a Go duration such as 10s."
  }
}

variable "throttling_burst_limit" {
  description = "Burst limit (requests) of the HTTP API's stage."
  type        = number
  default     = 100

  validation {
    condition     = var.throttling_burst_limit >= 1
    error_message = "throttling_burst_limit must be at least 1."
  }
}

variable "throttling_rate_limit" {
  description = "Steady-state rate limit (requests per second) of the HTTP API's stage."
  type        = number
  default     = 50

  validation {
    condition     = var.throttling_rate_limit >= 1
    error_message = "throttling_rate_limit must be at least 1."
  }
}

variable "enable_function_url" {
  description = "Also expose the function through a public Lambda Function URL (auth NONE; the signature is the authentication). It bypasses the API's throttling: cap the function with reserved_concurrency if you use it."
  type        = bool
  default     = false
}

variable "fifo_queue" {
  description = "Make the queue and its dead-letter queue FIFO (grouped by conversation_id, deduplicated by the body's SHA-256). Changing it replaces both queues."
  type        = bool
  default     = false
}

variable "max_receive_count" {
  description = "Receives of a message before SQS moves it to the dead-letter queue."
  type        = number
  default     = 5

  validation {
    condition     = var.max_receive_count >= 1 && var.max_receive_count <= 1000
    error_message = "max_receive_count must be between 1 and 1000."
  }
}

variable "max_message_size" {
  description = "MaximumMessageSize of the queue and its dead-letter queue, in bytes. The function reads it at start and claim-checks larger bodies into the bucket. SQS allows 1048576 (1 MiB), but the AWS provider validates it only up to 262144 before 6.8: with provider >= 6.8 (widen the version range in versions.tf) set 1048576, so that fewer bodies need a claim check."
  type        = number
  default     = 262144

  validation {
    condition     = var.max_message_size >= 1024 && var.max_message_size <= 1048576 && floor(var.max_message_size) == var.max_message_size
    error_message = "max_message_size must be a whole number of bytes from 1024 to 1048576."
  }
}

variable "claim_check_expiration_days" {
  description = "Days claim-check objects (elevenlabs/) are kept. Keep it at least as long as a message can wait in the queue and then its dead-letter queue: 4 + 14 = 18 days, since a FIFO dead-letter queue restarts a message's age (a standard one keeps it, 14 days in all). The default leaves a margin."
  type        = number
  default     = 21

  validation {
    condition     = var.claim_check_expiration_days >= 1
    error_message = "claim_check_expiration_days must be at least 1."
  }
}

variable "spill_expiration_days" {
  description = "Days spilled events (spill/) are kept; 0 keeps them until the replay deletes them. They never reached the queue, so leave operators time to replay them."
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
  description = "Create the CloudWatch alarms (dead-letter queue, function errors and throttles, API 5xx, function URL 5xx when enabled, spilled events, sustained 400s)."
  type        = bool
  default     = true
}

variable "bad_request_alarm_threshold" {
  description = "The bad-requests alarm fires when the function answers 400 (signature missing or not matching) more than this many times in an hour, as a wrong or rotated secret makes it do."
  type        = number
  default     = 5

  validation {
    condition     = var.bad_request_alarm_threshold >= 0
    error_message = "bad_request_alarm_threshold must be 0 or more."
  }
}

variable "alarm_email" {
  description = "Optional e-mail address subscribed to an SNS topic that the alarms notify; empty for none."
  type        = string
  default     = ""

  validation {
    condition     = var.alarm_email == "" || can(regex("^[^@\\s]+@[^@\\s]+$", var.alarm_email))
    error_message = "alarm_email must be empty or an e-mail address."
  }
}

variable "tags" {
  description = "Tags added to every resource that takes them."
  type        = map(string)
  default     = {}
}
