# Infrastructure targets: the SAM build hook, the Lambda zip for Terraform and
# the IaC checks. Included by the main Makefile (include mk/*.mk) and usable on
# its own: make -f mk/iac.mk <target>. Every variable is a ?= default.

# Keep whatever default goal the including Makefile has (restored at the end),
# so being included first does not make build-WebhookFunction the default.
iac_saved_default_goal := $(.DEFAULT_GOAL)

GO ?= go
GOARCH ?= arm64
TERRAFORM ?= terraform
CFN_LINT ?= cfn-lint
PYTHON ?= python3
# Directory of a Terraform filesystem mirror holding hashicorp/aws (CI keeps
# one there); tf-validate installs the provider from it when it exists, else
# from the registry.
TF_PLUGIN_MIRROR ?= /opt/tf-plugins
# hashicorp/google for offline checks: a directory beside the repository with
# an install-mirror script (it unpacks the provider into a filesystem mirror
# and prints a CLI configuration). Without it the provider comes from the
# registry, and without network access the GCP checks are skipped (CI=true:
# they fail).
IAC_REPO_ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))..)
TF_PROVIDERS ?= $(IAC_REPO_ROOT)/../shared/tf-providers
LAMBDA_ZIP ?= dist/lambda/bootstrap.zip
IAC_LOCAL_DIR ?= .local/iac

# The one definition of how the deployed Lambda binary is built; every
# target that writes a bootstrap (sam build, the Terraform zip,
# lambda-build) calls lambda_build with the output path.
LAMBDA_PKG := ./lambda/bootstrap
LAMBDA_GOFLAGS := -tags lambda.norpc -trimpath -ldflags="-s -w"
lambda_build = GOOS=linux GOARCH=$(GOARCH) CGO_ENABLED=0 $(GO) build $(LAMBDA_GOFLAGS) -o $(1) $(LAMBDA_PKG)
TF_CLI_CONFIG := $(IAC_LOCAL_DIR)/terraformrc
TF_VALIDATE_AWS := terraform/aws/modules/receiver terraform/aws/example
TF_VALIDATE_GCP := terraform/gcp/modules/receiver terraform/gcp/example

.PHONY: build-WebhookFunction lambda-zip lint-iac tf-validate

# Called by `sam build` (template.yaml: BuildMethod makefile), which sets
# ARTIFACTS_DIR. SAM does not pass the template's Architecture: for x86_64 run
# GOARCH=amd64 sam build.
build-WebhookFunction: ## for `sam build`: write $(ARTIFACTS_DIR)/bootstrap (GOARCH=arm64 by default)
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set (sam build sets it)" >&2; exit 2; }
	$(call lambda_build,"$(ARTIFACTS_DIR)/bootstrap")

# The deployment zip Terraform uploads. The binary gets a fixed time stamp and
# the zip no extra attributes, so an unchanged binary gives an unchanged zip
# (and no redeploy). Lambda needs bootstrap executable: both zip and Python's
# zipfile keep the file's Unix mode.
lambda-zip: ## write dist/lambda/bootstrap.zip for Terraform or the console
	@mkdir -p $(dir $(LAMBDA_ZIP))
	$(call lambda_build,$(dir $(LAMBDA_ZIP))bootstrap)
	chmod 0755 $(dir $(LAMBDA_ZIP))bootstrap
	touch -t 198001010000 $(dir $(LAMBDA_ZIP))bootstrap
	rm -f $(LAMBDA_ZIP)
	cd $(dir $(LAMBDA_ZIP)) && if command -v zip >/dev/null 2>&1; then \
		zip -q -X $(notdir $(LAMBDA_ZIP)) bootstrap; \
	else \
		$(PYTHON) -m zipfile -c $(notdir $(LAMBDA_ZIP)) bootstrap; \
	fi
	@echo "wrote $(LAMBDA_ZIP)"

lint-iac: ## cfn-lint template.yaml and terraform fmt -check
	$(CFN_LINT) template.yaml
	$(TERRAFORM) fmt -check -recursive -diff terraform

# tf-validate's CLI configuration (generated and git-ignored: the mirrors'
# paths belong to the machine): hashicorp/google from the install-mirror of
# $(TF_PROVIDERS) when that exists, hashicorp/aws from $(TF_PLUGIN_MIRROR)
# when that exists, everything else from the registry.
TF_REGISTRY_PROBE := https://registry.terraform.io/.well-known/terraform.json

$(TF_CLI_CONFIG): FORCE
	@mkdir -p $(dir $@)
	@if [ -x "$(TF_PROVIDERS)/install-mirror" ]; then \
		src=$$(TF_AWS_MIRROR="$(abspath $(TF_PLUGIN_MIRROR))" "$(TF_PROVIDERS)/install-mirror" "$(abspath $(IAC_LOCAL_DIR))/providers") && \
		cp "$$src" $@.tmp; \
	elif [ -d "$(TF_PLUGIN_MIRROR)/registry.terraform.io/hashicorp/aws" ]; then \
		printf '%s\n' \
			'provider_installation {' \
			'  filesystem_mirror {' \
			'    path    = "$(abspath $(TF_PLUGIN_MIRROR))"' \
			'    include = ["registry.terraform.io/hashicorp/aws"]' \
			'  }' \
			'  direct {' \
			'    exclude = ["registry.terraform.io/hashicorp/aws"]' \
			'  }' \
			'}' > $@.tmp; \
	else \
		printf '%s\n' 'provider_installation {' '  direct {}' '}' > $@.tmp; \
	fi
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

# Whether hashicorp/google can be installed: from the mirror, or from the
# registry when it answers (curl; without curl terraform init just tries).
tf-google-source = $(if $(wildcard $(TF_PROVIDERS)/install-mirror),mirror,$(shell \
	if ! command -v curl >/dev/null 2>&1; then echo registry; \
	elif curl -fsS -m 10 -o /dev/null $(TF_REGISTRY_PROBE) 2>/dev/null; then echo registry; \
	else echo none; fi))

TF_GOOGLE_HINT := hashicorp/google cannot be installed: no $(TF_PROVIDERS)/install-mirror and no access to registry.terraform.io. \
	Run make tf-validate where terraform can reach the registry, or put a filesystem mirror of hashicorp/google 7.x \
	(terraform providers mirror DIR, run elsewhere) in TF_PROVIDERS with an install-mirror script.

# TF_DATA_DIR keeps the .terraform directories under $(IAC_LOCAL_DIR); the
# provider binaries are linked from the mirrors, not copied.
tf-validate: $(TF_CLI_CONFIG) ## terraform init and validate for terraform/aws and terraform/gcp (providers from the mirrors when present)
	@set -e; dirs="$(TF_VALIDATE_AWS)"; \
	case "$(tf-google-source)" in \
		none) if [ "$$CI" = true ]; then echo "$(TF_GOOGLE_HINT) (CI=true: failing)" >&2; exit 1; fi; \
		      echo "skipping terraform/gcp: $(TF_GOOGLE_HINT)" >&2 ;; \
		*) dirs="$$dirs $(TF_VALIDATE_GCP)" ;; \
	esac; \
	for d in $$dirs; do \
		echo "== $$d"; \
		data="$(abspath $(IAC_LOCAL_DIR))/tfdata/$$(echo $$d | tr / _)"; \
		TF_CLI_CONFIG_FILE="$(abspath $(TF_CLI_CONFIG))" TF_DATA_DIR="$$data" \
			$(TERRAFORM) -chdir=$$d init -backend=false -input=false -no-color >/dev/null; \
		TF_CLI_CONFIG_FILE="$(abspath $(TF_CLI_CONFIG))" TF_DATA_DIR="$$data" \
			$(TERRAFORM) -chdir=$$d validate -no-color; \
	done

.PHONY: FORCE
FORCE:

.DEFAULT_GOAL := $(iac_saved_default_goal)
