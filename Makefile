# Benchmarks. `make bench-broker` is the full run (about 3 minutes on 2
# cores); `make bench-broker-quick` is the 20-second one CI can afford.
# Results go to docs/benchmarks.md by hand: paste the Markdown it prints.

GO          ?= go
SLUICE_BIN  ?= bin/sluice
# Debian's nats-server (2.9) cannot sync each write; `make bin/nats-server`
# builds one that can, and bench-broker uses it when it is there.
NATS_SERVER ?= $(if $(wildcard bin/nats-server),bin/nats-server,/usr/sbin/nats-server)
BENCH_FLAGS ?=

.PHONY: bench-broker bench-broker-quick

bench-broker:
	$(GO) build -o $(SLUICE_BIN) ./cmd/sluice
	$(SLUICE_BIN) bench broker --sluice-binary $(SLUICE_BIN) --nats-server $(NATS_SERVER) $(BENCH_FLAGS)

bench-broker-quick:
	$(MAKE) bench-broker BENCH_FLAGS="--quick $(BENCH_FLAGS)"

bin/nats-server:
	GOBIN=$(CURDIR)/bin $(GO) install github.com/nats-io/nats-server/v2@v2.15.2
