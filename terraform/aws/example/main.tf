# An example root: `make lambda-zip`, then from the repository root
#   terraform -chdir=terraform/aws/example init
#   terraform -chdir=terraform/aws/example apply
terraform {
  required_version = ">= 1.5"

  required_providers {
    # Validated with 5.100.0 (terraform validate and an apply on moto in
    # go test ./terraform/...); 5.32.0 added aws_lambda_function's
    # logging_config block. 6.x is not validated here: docs/lambda.md says what
    # changes with it.
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.32, < 6.0"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project = "elevenrelay"
    }
  }
}

locals {
  # A relative lambda_zip_path is taken from the repository root, wherever
  # terraform runs from.
  lambda_zip_path = startswith(var.lambda_zip_path, "/") ? var.lambda_zip_path : "${path.root}/../../../${var.lambda_zip_path}"
}

module "receiver" {
  source = "../modules/receiver"

  name                        = var.name
  lambda_zip_path             = local.lambda_zip_path
  architecture                = var.architecture
  webhook_secret              = var.webhook_secret
  log_level                   = var.log_level
  fifo_queue                  = var.fifo_queue
  enable_function_url         = var.enable_function_url
  enable_alarms               = var.enable_alarms
  bad_request_alarm_threshold = var.bad_request_alarm_threshold
  alarm_email                 = var.alarm_email
  force_destroy_buckets       = var.force_destroy_buckets

  storage_first                  = var.storage_first
  storage_first_source_allowlist = var.storage_first_source_allowlist
}
