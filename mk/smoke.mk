# Smoke test of a deployed stack (AWS): a signed transcription and a ~9 MB
# post-call audio event, sent to URL with ELEVENLABS_WEBHOOK_SECRET.

.PHONY: smoke

smoke: ## send a signed transcription and a 9 MB audio event to a deployed stack (URL=https://…/webhook, ELEVENLABS_WEBHOOK_SECRET) and report the answers
	@case "$(origin URL)" in command*|environment*) ;; *) echo "usage: make smoke URL=https://…/webhook (the stack's webhook URL output)"; exit 2;; esac
	$(GO) run ./cmd/smoke -url '$(URL)'
