# Cloud Functions (2nd gen): the deployable source and a local run.
# See docs/gcf.md.

GCF_SOURCE ?= dist/gcf-source.zip
# The function's port locally: beside make run's $(PORT), not on it.
GCF_PORT    ?= 8081
PUBSUB_PORT ?= 8085

.PHONY: gcf-source gcf-run gcf-local gcf-local-stop

gcf-source: ## write dist/gcf-source.zip, the Cloud Function's source for gcloud and Terraform
	$(GO) run ./cmd/gcf-source -o $(GCF_SOURCE)

gcf-run: ## run the Cloud Function on 127.0.0.1:$(GCF_PORT) through the Functions Framework (set PUBSUB_TOPIC etc.)
	FUNCTION_TARGET=ElevenLabsWebhook PORT=$(GCF_PORT) $(GO) run ./cmd/gcf-local

gcf-local: ## run the Cloud Function on 127.0.0.1:$(GCF_PORT) against a Pub/Sub emulator on $(PUBSUB_PORT) it starts, with a topic, a subscription and a pull command
	PORT=$(GCF_PORT) PUBSUB_PORT=$(PUBSUB_PORT) $(GO) run ./cmd/gcf-local -emulator

gcf-local-stop: ## stop what make gcf-local started (the function and the Pub/Sub emulator)
	@$(GO) run ./cmd/gcf-local -stop
