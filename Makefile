# Sluice developer entry points. `make help` lists them.

GO        ?= go
BIN       := bin/sluice
DATA_DIR  ?= ./sluice-data
LISTEN    ?= 127.0.0.1:9092
HTTP      ?= 127.0.0.1:8080
# -race on everything: the broker under test/compat runs as a separate
# (non-race) binary; set SLUICE_COMPAT_BINARY to a -race build to cover it too.
TESTFLAGS ?= -race -timeout 20m

.PHONY: help build test bench bench-broker dev fmt vet

help:
	@echo "make build         build $(BIN)"
	@echo "make dev           build and run 'sluice dev' on $(LISTEN), metrics on http://$(HTTP)/metrics"
	@echo "make test          run all tests (needs kcat and node: see .ci/run)"
	@echo "make bench         run the broker benchmark (same as bench-broker)"
	@echo "make fmt | vet     gofmt -w | go vet"

build:
	$(GO) build -o $(BIN) ./cmd/sluice

test:
	$(GO) test $(TESTFLAGS) ./...

bench: bench-broker

bench-broker: build
	$(BIN) bench broker

dev: build
	$(BIN) dev --data-dir $(DATA_DIR) --listen $(LISTEN) --http-listen $(HTTP)

fmt:
	gofmt -s -w $$(git ls-files '*.go')

vet:
	$(GO) vet ./...
