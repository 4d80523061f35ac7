# netloop's build, test and benchmark entry points.
GO ?= go
PKGS := ./...
CROSS := darwin/amd64 darwin/arm64 freebsd/amd64 netbsd/amd64 openbsd/amd64 dragonfly/amd64 windows/amd64

.PHONY: test fmt-check vet cross race race-debug bench bench-quick lint

## test: everything CI checks (format, vet, race tests, the netloopdebug
## build of the socket suite, cross-compile + vet)
test: fmt-check vet cross race race-debug

fmt-check:
	@out=$$(gofmt -l $$(git ls-files --cached --others --exclude-standard '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@echo "gofmt: ok"

vet:
	$(GO) vet $(PKGS)

cross:
	@set -e; for t in $(CROSS); do \
		os=$${t%/*}; arch=$${t#*/}; \
		echo "cross: $$os/$$arch build+vet"; \
		GOOS=$$os GOARCH=$$arch $(GO) build $(PKGS); \
		GOOS=$$os GOARCH=$$arch $(GO) vet $(PKGS); \
	done

race:
	$(GO) test -race -count=1 -timeout 8m $(PKGS)

## race-debug: the socket suite built with -tags netloopdebug (loop-affinity
## and invariant checks) under the race detector
race-debug:
	$(GO) vet -tags netloopdebug ./...
	$(GO) test -race -count=1 -timeout 5m -tags netloopdebug ./socket

lint: fmt-check vet

## bench: every benchmark case, >= 5 interleaved rounds (<= 30 min); writes docs/bench/
bench:
	cd bench && $(GO) run ./cmd/bench -mode full

## bench-quick: one round of the first two cases (< 2 min); writes docs/bench/
bench-quick:
	cd bench && $(GO) run ./cmd/bench -mode quick
