// Package terraform holds no code: its tests check the infrastructure as code
// of the repository (template.yaml, terraform/aws, terraform/gcp) with
// cfn-lint, terraform fmt/validate with the real AWS and Google providers, an
// apply of the AWS example against moto, a plan of the GCP example and an
// apply of its Pub/Sub and Storage part against the emulators, and HCL
// structure checks, so that `go test ./...` covers them too.
package terraform
