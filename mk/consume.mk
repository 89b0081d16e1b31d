# The consumer side: events out of the queue, typed and dispatched.

.PHONY: consume sdk-coverage

consume: ## follow the local spool that make run writes; one line per event, transcripts (.json) and audio (.mp3) in .local/consumed
	$(GO) run ./cmd/consume

# The webhook types' field coverage test reads the official JS SDK's schemas,
# which npm ci installs into bench/node: make test gets them first.
test-go: $(BENCH_NODE)/node_modules/.package-lock.json

sdk-coverage: $(BENCH_NODE)/node_modules/.package-lock.json ## check the webhook types against the JS SDK's wire names
	$(GO) test -count=1 -run 'TestSDKFieldCoverage' -v ./webhook
