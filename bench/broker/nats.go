package broker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// natsResult is the NATS JetStream baseline.
type natsResult struct {
	Throughput
	Version  string
	SyncEach bool // the server synced every write (sync_interval: always)
	Failed   int64
	FirstErr error
	TimedOut bool
	Memory   Memory
}

// natsBaseline starts nats-server with JetStream on a free loopback port,
// publishes n messages of the benchmark's value to a file-storage stream
// with async publish, and waits for every ack. The server syncs each write
// to disk where it supports sync_interval (2.10 and later); an older one
// runs with its default (a sync every two minutes) and the result says so.
func natsBaseline(ctx context.Context, o Options, value []byte, n int) (natsResult, error) {
	var res natsResult
	res.Version = serverVersion(o.NATSServer)
	dir, err := os.MkdirTemp(o.TempDir, "sluice-bench-nats-*")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)

	srv, addr, err := startNATS(ctx, o, dir, true)
	if err != nil && strings.Contains(err.Error(), "sync_interval") {
		o.Logger.Warn("nats-server does not know sync_interval; its writes are not synced one by one", "version", res.Version)
		srv, addr, err = startNATS(ctx, o, dir, false)
	} else if err == nil {
		res.SyncEach = true
	}
	if err != nil {
		return res, err
	}
	defer srv.stop()

	nc, err := nats.Connect("nats://"+addr, nats.Name("sluice-bench"))
	if err != nil {
		return res, fmt.Errorf("connect to nats-server at %s: %w", addr, err)
	}
	defer nc.Close()

	var (
		acked, failed atomic.Int64
		errOnce       sync.Once
	)
	js, err := jetstream.New(nc,
		jetstream.WithPublishAsyncMaxPending(o.NATSMaxPending),
		jetstream.WithPublishAsyncAckHandler(func(jetstream.JetStream, *nats.Msg, *jetstream.PubAck) {
			acked.Add(1)
		}),
		jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, _ *nats.Msg, err error) {
			failed.Add(1)
			errOnce.Do(func() { res.FirstErr = err })
		}),
	)
	if err != nil {
		return res, err
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := js.CreateStream(sctx, jetstream.StreamConfig{
		Name:     "BENCH",
		Subjects: []string{"bench"},
		Storage:  jetstream.FileStorage,
		Replicas: 1,
	}); err != nil {
		return res, fmt.Errorf("create JetStream stream: %w", err)
	}
	if _, err := js.Publish(sctx, "bench", []byte("warm-up")); err != nil {
		return res, fmt.Errorf("publish first message: %w", err)
	}
	acked.Store(0)

	deadline := time.Now().Add(o.BaselineTimeout)
	start := time.Now()
	for i := 0; i < n; {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		if i%1024 == 0 && time.Now().After(deadline) {
			res.TimedOut = true
			break
		}
		_, err := js.PublishAsync("bench", value)
		if errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
			continue // the pending window was full for a while; try again
		}
		if err != nil {
			return res, fmt.Errorf("publish: %w", err)
		}
		i++
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(60 * time.Second):
		return res, fmt.Errorf("nats: %d publishes still unacknowledged after a minute", js.PublishAsyncPending())
	case <-ctx.Done():
		return res, ctx.Err()
	}
	res.Duration = time.Since(start)
	res.Records = acked.Load()
	res.Bytes = res.Records * int64(len(value))
	res.Failed = failed.Load()
	if m, err := readMemory(srv.pid()); err == nil {
		res.Memory = m
	}
	return res, nil
}

// startNATS writes a config into dir and starts nats-server with it.
func startNATS(ctx context.Context, o Options, dir string, syncAlways bool) (*process, string, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, "", err
	}
	sync := ""
	if syncAlways {
		sync = "\n  sync_interval: always"
	}
	conf := fmt.Sprintf("listen: %q\njetstream {\n  store_dir: %q%s\n}\n", addr, filepath.Join(dir, "js"), sync)
	path := filepath.Join(dir, "nats.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		return nil, "", err
	}
	p, err := startProcess(ctx, "nats-server", o.NATSServer, []string{"-c", path}, addr, 15*time.Second)
	return p, addr, err
}

// serverVersion asks a nats-server binary for its version.
func serverVersion(bin string) string {
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		return "unknown"
	}
	// "nats-server: v2.9.10"
	s := strings.TrimSpace(string(out))
	if _, v, ok := strings.Cut(s, ": "); ok {
		return v
	}
	return s
}
