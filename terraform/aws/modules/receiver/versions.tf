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
