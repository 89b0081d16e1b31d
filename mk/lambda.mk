# AWS Lambda: the function binary, its sample events, its benchmarks.
# (build-WebhookFunction, lambda-zip and the build flags, lambda_build,
# live in mk/iac.mk.)

LAMBDA_DIST   ?= dist/lambda

FUZZ_TARGETS += ./lambda:FuzzDecodeEvent

.PHONY: lambda-build events bench-lambda lambda-local

lambda-build: ## build the Lambda binary dist/lambda/bootstrap (GOARCH=arm64 by default; GOARCH=amd64 for x86_64)
	@mkdir -p $(LAMBDA_DIST)
	$(call lambda_build,$(LAMBDA_DIST)/bootstrap)
	@ls -l $(LAMBDA_DIST)/bootstrap

events: ## re-sign the sample Lambda events in events/ now, with the first secret of ELEVENLABS_WEBHOOK_SECRET (else the development secret)
	$(GO) run ./cmd/events

bench-lambda: ## benchmarks: one Lambda invocation vs the bare HMAC, at 5 KiB and 1 MiB
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./lambda/

# Like `sam local start-api`, without Docker: moto_server, the bootstrap
# under the AWS Lambda runtime interface emulator (pinned in tools/rie) and
# an API Gateway front. The command is built first and exec'd, so Ctrl-C
# and SIGTERM reach it and it stops what it started.
LAMBDA_PORT ?= 3000
LAMBDA_LOCAL_BIN ?= .local/bin/lambda-local

lambda-local: ## run the function under the Lambda emulator behind an API Gateway front on 127.0.0.1:$(LAMBDA_PORT), with moto_server for SQS and S3
	@mkdir -p $(dir $(LAMBDA_LOCAL_BIN))
	@$(GO) build -o $(LAMBDA_LOCAL_BIN) ./cmd/lambda-local && exec $(LAMBDA_LOCAL_BIN) -port $(LAMBDA_PORT)
