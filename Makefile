# Sluice developer entry points. `make help` lists them.

GO          ?= go
SLUICE_BIN  ?= bin/sluice
DATA_DIR    ?= ./sluice-data
LISTEN      ?= 127.0.0.1:9092
HTTP        ?= 127.0.0.1:8080
# -race on everything: the broker under test/compat runs as a separate
# (non-race) binary; set SLUICE_COMPAT_BINARY to a -race build to cover it too.
TESTFLAGS   ?= -race -timeout 20m

# Benchmarks. `make bench-broker` is the full run (about 4 minutes on 2
# cores); `make bench-broker-quick` is the 20-second one CI can afford.
# Results go to docs/benchmarks.md by hand: paste the Markdown it prints.
# Debian's nats-server (2.9) cannot sync each write; `make bin/nats-server`
# builds one that can, and bench-broker uses it when it is there.
NATS_SERVER ?= $(if $(wildcard bin/nats-server),bin/nats-server,/usr/sbin/nats-server)
BENCH_FLAGS ?=

.PHONY: help build test bench bench-broker bench-broker-quick bench-serde bench-connect bench-connect-pipeline bench-sql bench-cdc bench-jdbc bench-state bench-pull bench-nexmark dev fmt vet

help:
	@echo "make build         build $(SLUICE_BIN)"
	@echo "make dev           build and run 'sluice dev' on $(LISTEN), metrics on http://$(HTTP)/metrics"
	@echo "make test          run all tests (needs kcat and node: see .ci/run)"
	@echo "make bench         run the broker benchmark (bench-broker; bench-broker-quick is shorter)"
	@echo "make fmt | vet     gofmt -w | go vet"

build:
	$(GO) build -o $(SLUICE_BIN) ./cmd/sluice

# All tests, then the 1M-row CDC snapshot while writes continue, built
# without the race detector (it takes minutes under it).
test:
	$(GO) test $(TESTFLAGS) ./...
	$(GO) test -count=1 -timeout 10m -run '^TestSnapshot1MWhileWriting$$' ./bench/cdc/

bench: bench-broker bench-serde bench-connect bench-sql bench-jdbc bench-state

# Pull queries: key lookups on a materialized 100k-key table (Go benchmarks).
bench-pull:
	$(GO) test -run '^$$' -bench . -benchtime 20000x ./bench/pull/

# SQL state stores: puts/gets per second and restore MB/s (Go benchmarks).
bench-state:
	$(GO) test -run '^$$' -bench . ./bench/state/

# Connect record path: JSON convert -> ReplaceField -> InsertField -> convert.
bench-connect:
	$(GO) test -run '^$$' -bench . -benchmem ./bench/connect/

# Nexmark q3, q5, q7, q8 (q0, q1 as baselines) in process and in sluice
# dev, plus state restore; 1M events by default (BENCH_FLAGS="--events N").
bench-nexmark: build
	$(SLUICE_BIN) bench nexmark --sluice-binary $(SLUICE_BIN) $(BENCH_FLAGS)

# Whole Connect pipelines in sluice dev (datagen -> file sink vs kcat -P,
# JSON filter+map per core). Needs kcat (see .ci/run).
bench-connect-pipeline: build
	$(SLUICE_BIN) bench connect --sluice-binary $(SLUICE_BIN) $(BENCH_FLAGS)

# PostgreSQL CDC against pg_recvlogical (needs .ci/services.sh's PostgreSQL settings).
bench-cdc:
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 20m ./bench/cdc/
	$(GO) test -run '^$$' -bench Decode -benchtime 200000x ./connect/postgres/
	$(GO) test -run '^$$' -bench RowChange -benchtime 200000x ./connect/mysql/

# JDBC sink upserts (rows/s) into the local PostgreSQL and MariaDB.
bench-jdbc:
	$(GO) test -run '^$$' -bench Upsert -benchtime 200x ./connect/jdbc/

# Record formats against encoding/json, and registry lookups (Go benchmarks).
bench-serde:
	$(GO) test -run '^$$' -bench . -benchmem ./bench/serde/

# Stateless SQL: filter+projection vs a hand-written loop, Nexmark q0-q2.
bench-sql:
	$(GO) test -run '^$$' -bench . -benchtime 200000x -cpu 1 -count 3 ./bench/sql/

bench-broker: build
	$(SLUICE_BIN) bench broker --sluice-binary $(SLUICE_BIN) --nats-server $(NATS_SERVER) $(BENCH_FLAGS)

bench-broker-quick:
	$(MAKE) bench-broker BENCH_FLAGS="--quick $(BENCH_FLAGS)"

bin/nats-server:
	GOBIN=$(CURDIR)/bin $(GO) install github.com/nats-io/nats-server/v2@v2.15.2

dev: build
	$(SLUICE_BIN) dev --data-dir $(DATA_DIR) --listen $(LISTEN) --http-listen $(HTTP)

fmt:
	gofmt -s -w $$(git ls-files '*.go')

vet:
	$(GO) vet ./...
