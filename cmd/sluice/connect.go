package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluicedata/sluice/connect"
	_ "github.com/sluicedata/sluice/connect/converters" // JSON, String, ByteArray, Avro, Protobuf, JSON Schema
	"github.com/sluicedata/sluice/connect/rest"
	"github.com/sluicedata/sluice/connect/runtime"
	_ "github.com/sluicedata/sluice/connect/transforms" // Apache Kafka's SMTs and predicates
)

// startConnect runs the connector runtime against the broker at brokerAddr
// and serves Kafka Connect's REST API on listen. stop shuts both down.
func startConnect(ctx context.Context, brokerAddr, listen string, exactlyOnce bool, reg prometheus.Registerer, logger *slog.Logger) (stop func(), err error) {
	octx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	w, err := runtime.New(octx, runtime.Options{
		Brokers:  []string{brokerAddr},
		WorkerID: listen,
		URL:      "http://" + listen,
		// Several nodes against one cluster share the connectors; one
		// node alone runs them all.
		Distributed: true,
		// Kafka's connect-distributed.properties defaults.
		WorkerConfig: connect.Config{
			"key.converter":   "org.apache.kafka.connect.json.JsonConverter",
			"value.converter": "org.apache.kafka.connect.json.JsonConverter",
		},
		ExactlyOnceSource: exactlyOnce,
		Logger:            logger,
		Registerer:        reg,
	})
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	// Listen once the runtime is up: an open port means a ready API.
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("--connect-listen %s: %w", listen, err)
	}
	srv := &http.Server{Handler: rest.Handler(w, rest.Options{Logger: logger}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	logger.Info("kafka connect REST API listening", "url", "http://"+ln.Addr().String())
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		srv.Shutdown(sctx)
		cancel()
		w.Close()
	}, nil
}
