// Package testkit starts embedded Sluice components for tests.
package testkit

import (
	"io"
	"log/slog"
	"testing"

	"github.com/sluicedata/sluice/broker"
)

// Broker is an in-process broker on a free loopback port with its data in a
// test temp dir. It stops when the test ends.
type Broker struct {
	*broker.Server
	DataDir string
}

// StartBroker starts a broker for t. Options modify its Config.
func StartBroker(t testing.TB, opts ...func(*broker.Config)) *Broker {
	t.Helper()
	cfg := broker.Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0", NodeID: 1, AutoCreateTopics: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, o := range opts {
		o(&cfg)
	}
	s, err := broker.New(cfg)
	if err != nil {
		t.Fatalf("start broker: %v", err)
	}
	go s.Serve()
	t.Cleanup(func() { s.Close() })
	return &Broker{Server: s, DataDir: cfg.DataDir}
}

// Addr is the broker's bootstrap address.
func (b *Broker) Addr() string { return b.Server.Addr().String() }
