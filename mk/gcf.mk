# Cloud Functions (2nd gen): the deployable source and a local run.
# See docs/gcf.md.

GCF_SOURCE ?= dist/gcf-source.zip

.PHONY: gcf-source gcf-run

gcf-source: ## write dist/gcf-source.zip, the Cloud Function's source for gcloud and Terraform
	$(GO) run ./cmd/gcf-source -o $(GCF_SOURCE)

gcf-run: ## run the Cloud Function on 127.0.0.1:$(PORT) through the Functions Framework (set PUBSUB_TOPIC etc.)
	FUNCTION_TARGET=ElevenLabsWebhook PORT=$(PORT) $(GO) run ./cmd/gcf-local
