# netloop's build, test and benchmark entry points.
GO ?= go
PKGS := ./...
CROSS := darwin/amd64 darwin/arm64 freebsd/amd64 netbsd/amd64 openbsd/amd64 dragonfly/amd64 windows/amd64
# The public packages whose exported API is snapshotted in api/.
API_PKGS := . ./addr ./errs ./handle ./loop ./pipe ./poller ./server ./socket ./stream ./tcp ./tls

.PHONY: test fmt-check vet api-check api-update cross race race-debug uring-test wine-test wine-echo bench bench-quick lint tls-tools

## test: everything CI checks (format, vet, the API snapshot, race tests,
## the netloopdebug build of the socket suite, cross-compile + vet, the
## suites once more on the io_uring poller, the Windows build's tests
## under Wine)
test: fmt-check vet api-check cross tls-tools race race-debug uring-test wine-test

fmt-check:
	@out=$$(gofmt -l $$(git ls-files --cached --others --exclude-standard '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@echo "gofmt: ok"

vet:
	$(GO) vet $(PKGS)

## api-check: the exported API matches the snapshots in api/*.txt
api-check:
	$(GO) run ./internal/cmd/apicheck -dir api $(API_PKGS)

## api-update: rewrite api/*.txt after an intended API change
api-update:
	$(GO) run ./internal/cmd/apicheck -write -dir api $(API_PKGS)

cross:
	@set -e; for t in $(CROSS); do \
		os=$${t%/*}; arch=$${t#*/}; \
		echo "cross: $$os/$$arch build+vet"; \
		GOOS=$$os GOARCH=$$arch $(GO) build $(PKGS); \
		GOOS=$$os GOARCH=$$arch $(GO) vet $(PKGS); \
	done

## tls-tools: the openssl binary the tls interoperability tests use
## (installs Debian's package when missing and apt-get is there)
tls-tools:
	@command -v openssl >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 && \
		(apt-get update -qq && apt-get install -y -qq openssl >/dev/null); } || true
	@command -v openssl >/dev/null 2>&1 && openssl version || \
		echo "tls-tools: openssl missing: the OpenSSL interop tests will skip (fail with CI=true)"

race:
	$(GO) test -race -count=1 -timeout 8m $(PKGS)

## race-debug: the socket suite built with -tags netloopdebug (loop-affinity
## and invariant checks) under the race detector
race-debug:
	$(GO) vet -tags netloopdebug ./...
	$(GO) test -race -count=1 -timeout 5m -tags netloopdebug ./socket ./internal/emitter

## uring-test: the conformance suites once with the opt-in io_uring poller
## (NETLOOP_IOURING=1); internal/core's TestLoopBackendFollowsNetloopIOURing
## fails if the loops stayed on epoll while io_uring_setup works, and skips
## saying so where the kernel refuses it
URING_PKGS := ./internal/core ./loop ./handle ./stream ./tcp ./pipe ./socket ./server ./tls .
uring-test:
	NETLOOP_IOURING=1 $(GO) test -count=1 -timeout 5m $(URING_PKGS)

## wine-test: GOOS=windows go test of WINE_PKGS under Wine (installs
## Debian's wine64 when missing; prefix cached in $$HOME/.cache/netloop-wine)
WINE_PKGS := ./addr ./errs ./internal/cmd/bcryptfwd ./internal/sys ./poller ./loop ./handle ./stream ./tcp ./pipe ./socket ./server ./tls .
wine-test:
	./scripts/wine-test.sh $(WINE_PKGS)

## wine-echo: the bench's netloop echo peer built for Windows, under Wine,
## against the Linux load generator (a correctness run with a rough
## round-trip figure; not part of test)
wine-echo:
	./scripts/wine-echo.sh

lint: fmt-check vet

## bench: every benchmark case, >= 5 interleaved rounds (<= 30 min); writes docs/bench/
bench:
	cd bench && $(GO) run ./cmd/bench -mode full

## bench-quick: one round of the first two cases (< 2 min); writes docs/bench/
bench-quick:
	cd bench && $(GO) run ./cmd/bench -mode quick
