// Package terraform holds no code: its tests check the infrastructure as code
// of the repository (template.yaml, terraform/aws, terraform/gcp) with
// cfn-lint, terraform fmt/validate, an apply against moto and HCL structure
// checks, so that `go test ./...` covers them too.
package terraform
