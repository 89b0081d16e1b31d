# AWS Lambda: the function binary, its sample events, its benchmarks.
# (build-WebhookFunction, lambda-zip and the build flags, lambda_build,
# live in mk/iac.mk.)

LAMBDA_DIST   ?= dist/lambda

FUZZ_TARGETS += ./lambda:FuzzDecodeEvent

.PHONY: lambda-build events bench-lambda

lambda-build: ## build the Lambda binary dist/lambda/bootstrap (GOARCH=arm64 by default; GOARCH=amd64 for x86_64)
	@mkdir -p $(LAMBDA_DIST)
	$(call lambda_build,$(LAMBDA_DIST)/bootstrap)
	@ls -l $(LAMBDA_DIST)/bootstrap

events: ## re-sign the sample Lambda events in events/ now, with the first secret of ELEVENLABS_WEBHOOK_SECRET (else the development secret)
	$(GO) run ./cmd/events

bench-lambda: ## benchmarks: one Lambda invocation vs the bare HMAC, at 5 KiB and 1 MiB
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./lambda/
