# Load test: signed webhooks over loopback HTTP into the real emulators, then
# a check that nothing was lost, duplicated, altered or unexpected.
# See docs/reliability.md.

LOADTEST_N      ?= 20000
LOADTEST_C      ?= 50
LOADTEST_TARGET ?= both
LOADTEST_FLAGS  ?=

.PHONY: loadtest

loadtest: ## LOADTEST_N requests (20000), LOADTEST_C at a time (50), into SQS on moto and the Pub/Sub emulator; checks nothing is lost
	$(GO) run ./cmd/loadtest -target $(LOADTEST_TARGET) -n $(LOADTEST_N) -c $(LOADTEST_C) $(LOADTEST_FLAGS)
