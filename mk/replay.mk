# Replay: put the bodies a receiver spilled while its queue was down back on
# the queue. See docs/reliability.md.

PLATFORM ?= aws
REPLAY_FLAGS ?=

.PHONY: replay

replay: ## re-publish spilled bodies (PLATFORM=aws|gcp, REPLAY_FLAGS=-dry-run) from CLAIM_CHECK_BUCKET to the queue; on aws also process inbox/ objects older than 15m (REPLAY_FLAGS=-inbox-age=1h)
	$(GO) run ./cmd/replay -platform $(PLATFORM) $(REPLAY_FLAGS)
