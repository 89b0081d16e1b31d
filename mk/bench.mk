# Side-by-side benchmarks against peer verifiers, the HMAC floor and Lambda
# cold start. They live in bench/, a module of its own, so that
# the product never depends on the peers. The benchmarks are not part of
# `make test`; bench-peers-test (each peer really verifies) is.

BENCH_NODE := bench/node
# Extra flags for bench/cmd/report, e.g. BENCH_PEERS_FLAGS='-rounds 9 -clock wall'.
BENCH_PEERS_FLAGS ?=

.PHONY: bench-peers bench-peers-test bench-coldstart

# npm ci only when the lock file changed since the last install.
$(BENCH_NODE)/node_modules/.package-lock.json: $(BENCH_NODE)/package-lock.json $(BENCH_NODE)/package.json
	cd $(BENCH_NODE) && npm ci --no-audit --no-fund

bench-peers: $(BENCH_NODE)/node_modules/.package-lock.json ## verification vs the HMAC floor and peers (Go, Node SDK), cold start, invoke cost; writes docs/performance.md
	cd bench && $(GO) run ./cmd/report -out ../docs/performance.md $(BENCH_PEERS_FLAGS)

bench-coldstart: ## only the cold starts against hello-world functions: Lambda (loopback Runtime API and the runtime interface emulator, 6 MiB body peak RSS) and the Cloud Function (Pub/Sub emulator)
	cd bench && $(GO) run ./cmd/report -skip-verify -skip-invoke $(BENCH_PEERS_FLAGS)

bench-peers-test: ## fast check that every benchmarked verifier accepts a valid signature and refuses a tampered body
	cd bench && $(GO) vet ./... && $(GO) test -short -count=1 ./...
