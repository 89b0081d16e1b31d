# elevenrelay: receive ElevenLabs webhooks, verify them, queue them durably.
# `make run` and `make test` are the two commands a new machine needs.

GO        ?= go
PORT      ?= 8080
FUZZTIME  ?= 3s
BENCHTIME ?= 1s
# Packages with fuzz targets, as package:Target pairs.
FUZZ_TARGETS ?= ./core:FuzzParseSignatureHeader ./core:FuzzVerify ./core:FuzzParseEvent ./internal/jsonscan:FuzzClassifier

.PHONY: all build test test-go fmt fmt-check vet staticcheck run send sign bench fuzz fuzz-brief clean help

all: build

# Variables whose current value help prints in place of $(NAME).
HELP_VARS ?= PORT LAMBDA_PORT FUZZTIME LOADTEST_N LOADTEST_C GCF_PORT PUBSUB_PORT

help: ## list the targets
	@grep -hE '^[a-zA-Z0-9_%-]+:.*## ' $(MAKEFILE_LIST) | sed -e 's/:.*## /\t/' \
		$(foreach v,$(HELP_VARS),-e 's|$$($(v))|$($(v))|g') | sort

build: ## compile every package and command
	$(GO) build ./...

test: fmt-check vet staticcheck test-go fuzz-brief bench-peers-test ## gofmt check, go vet, staticcheck, all tests with the race detector, brief fuzzing, the peer benchmarks' honesty check

test-go:
	$(GO) test -race -count=1 -timeout 20m ./...

fmt: ## format the code
	gofmt -w $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet: ## go vet
	$(GO) vet ./...

# staticcheck runs through `go run` at a pinned version, so a fresh machine
# installs nothing by hand (the module proxy serves it; the build is cached).
STATICCHECK_VERSION ?= v0.8.2
staticcheck: ## staticcheck (honnef.co/go/tools, pinned) over every package, bench/ included
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...
	cd bench && $(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

run: ## run the local receiver on 127.0.0.1:$(PORT)/webhook, spooling to .local/
	PORT=$(PORT) $(GO) run ./cmd/local

EVENT ?= post_call_transcription
FILE  ?= events/bodies/$(EVENT).json
URL   ?= http://127.0.0.1:$(PORT)/webhook
WAIT  ?= 0s
send: ## sign FILE (or events/bodies/$(EVENT).json) and POST it to URL (the local receiver); WAIT=1m retries while nothing listens yet
	$(GO) run ./cmd/send -url '$(URL)' -file '$(FILE)' -wait '$(WAIT)'

sign: ## print an ElevenLabs-Signature header for FILE, for curl
	@$(GO) run ./cmd/send -header -file '$(FILE)'

bench: ## benchmarks (verification vs bare HMAC, the receiver)
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./core/...

fuzz-brief: ## fuzz every target for FUZZTIME ($(FUZZTIME)), as make test does
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	done

fuzz: ## fuzz every target for longer (FUZZTIME=2m by default here)
	$(MAKE) fuzz-brief FUZZTIME=2m

clean: ## remove build output and the local spool
	rm -rf dist bin .local

# Platform and infrastructure targets live beside this file in mk/.
-include mk/*.mk
