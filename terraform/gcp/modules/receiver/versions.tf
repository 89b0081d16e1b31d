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
