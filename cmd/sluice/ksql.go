package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluicedata/sluice/engine"
	"github.com/sluicedata/sluice/engine/queries"
	"github.com/sluicedata/sluice/engine/rest"
	"github.com/sluicedata/sluice/serde/srclient"
	"github.com/sluicedata/sluice/sql/state"
)

// startKSQL runs the SQL engine against the broker at brokerAddr and serves
// ksqlDB's REST API on listen. registryURL ("" for none) enables AVRO,
// PROTOBUF and JSON_SR; stateDir holds the stores of stateful queries; connectURL ("" for none) the connector statements. stop terminates the API and the queries (their
// offsets committed); statements stay in the command topic for next time.
func startKSQL(ctx context.Context, brokerAddr, listen, stateDir, registryURL, connectURL string, reg prometheus.Registerer, logger *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("--ksql-listen %s: %w", listen, err)
	}
	cfg := engine.Config{Brokers: []string{brokerAddr}, Logger: logger.With("component", "sql"), Metrics: queries.NewMetrics(reg)}
	cfg.ConnectURL = connectURL
	cfg.StateDir, cfg.StateMetrics = stateDir, state.NewMetrics(reg)
	if registryURL != "" {
		cfg.Registry = srclient.New(registryURL)
	}
	octx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	e, err := engine.Start(octx, cfg)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("sql engine: %w", err)
	}
	sctx, scancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := rest.New(e, logger).Serve(sctx, ln); err != nil {
			logger.Error("ksqlDB REST API stopped", "err", err)
		}
	}()
	logger.Info("ksqlDB-compatible SQL API listening", "url", "http://"+ln.Addr().String())
	return func() {
		scancel()
		<-done
		e.Close()
	}, nil
}
