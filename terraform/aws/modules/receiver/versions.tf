terraform {
  required_version = ">= 1.5"

  required_providers {
    # 5.32.0 added aws_lambda_function's logging_config block.
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.32, < 7.0"
    }
  }
}
