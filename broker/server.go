// Package broker is Sluice's embedded Kafka-wire-compatible broker: a TCP
// listener that decodes requests with franz-go's kmsg, dispatches them to
// one handler per API key (the NN_name.go files), and stores records in
// broker/storage partition logs.
package broker

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluicedata/sluice/broker/group"
	"github.com/sluicedata/sluice/broker/storage"
	"github.com/sluicedata/sluice/broker/txn"
)

// Config configures a broker. The zero value of every field but DataDir
// has a working default.
type Config struct {
	DataDir string // where logs and metadata live
	Listen  string // host:port for Kafka clients (default 127.0.0.1:9092)
	// AdvertisedAddr is the host:port clients are told to connect to
	// (default: the listener's address).
	AdvertisedAddr string
	NodeID         int32
	// AutoCreateTopics creates unknown topics on Metadata requests that
	// allow it, as auto.create.topics.enable does.
	AutoCreateTopics  bool
	DefaultPartitions int32         // num.partitions for auto-created topics (default 1)
	RetentionCheck    time.Duration // how often retention runs (default 30s)
	// FetchSendfile sends fetched batches with sendfile(2) instead of
	// reading them into the response buffer.
	FetchSendfile bool
	// GroupInitialRebalanceDelay is group.initial.rebalance.delay.ms: how
	// long a new consumer group waits for more members before its first
	// assignment (default 3s; negative for none).
	GroupInitialRebalanceDelay time.Duration
	// GroupMinSessionTimeout is group.min.session.timeout.ms (default 6s).
	GroupMinSessionTimeout time.Duration
	// ConsumerSessionTimeout and ConsumerHeartbeatInterval are
	// group.consumer.session.timeout.ms (45s) and
	// group.consumer.heartbeat.interval.ms (5s) of KIP-848 groups.
	ConsumerSessionTimeout, ConsumerHeartbeatInterval time.Duration
	// OffsetsRetention is offsets.retention.minutes: committed offsets of
	// a group without members are deleted this long after it emptied
	// (default 7 days).
	OffsetsRetention time.Duration
	Logger           *slog.Logger
	// Registerer receives the broker's metrics (default: a private registry).
	Registerer prometheus.Registerer
}

// Server is a running broker.
type Server struct {
	cfg       Config
	logger    *slog.Logger
	clusterID string
	metrics   *metrics
	topics    *topicRegistry
	groups    *group.Coordinator
	pids      *txn.ProducerIDs
	txns      *txn.Coordinator
	flusher   *storage.Flusher
	ln        net.Listener
	advHost   string
	advPort   int32

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	closeOnce sync.Once
	schemas   atomic.Pointer[checkerHolder] // schema registry for topics with schema validation

	connMu sync.Mutex
	conns  map[*conn]struct{}
}

// New opens the data directory (recovering every partition log) and binds
// the listener. Call Serve to accept clients.
func New(cfg Config) (*Server, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("broker: DataDir is required")
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:9092"
	}
	if cfg.DefaultPartitions <= 0 {
		cfg.DefaultPartitions = 1
	}
	if cfg.RetentionCheck <= 0 {
		cfg.RetentionCheck = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Registerer == nil {
		cfg.Registerer = prometheus.NewRegistry()
	}
	s := &Server{cfg: cfg, logger: cfg.Logger, conns: map[*conn]struct{}{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if err := os.MkdirAll(filepath.Join(cfg.DataDir, "meta"), 0o755); err != nil {
		return nil, fmt.Errorf("broker: data dir: %w", err)
	}
	var err error
	if s.clusterID, err = loadClusterID(cfg.DataDir); err != nil {
		return nil, err
	}
	s.metrics = newMetrics(s, cfg.Registerer)
	if s.pids, err = txn.OpenProducerIDs(filepath.Join(cfg.DataDir, "meta", "producer-ids")); err != nil {
		return nil, err
	}
	s.flusher, err = storage.NewFlusher(filepath.Join(cfg.DataDir, "logs"), func(d time.Duration) { s.metrics.fsync.Observe(d.Seconds()) })
	if err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	if s.topics, err = newTopicRegistry(s); err != nil {
		s.flusher.Close()
		return nil, fmt.Errorf("broker: loading topics: %w", err)
	}
	if s.groups, err = s.newGroupCoordinator(); err != nil {
		s.topics.closeAll()
		s.flusher.Close()
		return nil, fmt.Errorf("broker: loading consumer groups: %w", err)
	}
	s.txns = txn.NewCoordinator(s.pids, txnBackend{s}, s.logger)
	dataWait, decisionWait := s.metrics.commitWait.WithLabelValues("data"), s.metrics.commitWait.WithLabelValues("decision")
	s.txns.OnCommitWaits = func(data, decision time.Duration) {
		dataWait.Observe(data.Seconds())
		decisionWait.Observe(decision.Seconds())
	}
	if err := s.loadTransactions(); err != nil {
		s.groups.Close()
		s.topics.closeAll()
		s.flusher.Close()
		return nil, fmt.Errorf("broker: recovering transactions: %w", err)
	}
	if s.ln, err = net.Listen("tcp", cfg.Listen); err != nil {
		s.groups.Close()
		s.topics.closeAll()
		s.flusher.Close()
		return nil, fmt.Errorf("broker: listen on %s: %w", cfg.Listen, err)
	}
	adv := cfg.AdvertisedAddr
	if adv == "" {
		adv = s.ln.Addr().String()
	}
	host, port, err := net.SplitHostPort(adv)
	if err != nil {
		s.ln.Close()
		s.groups.Close()
		s.topics.closeAll()
		s.flusher.Close()
		return nil, fmt.Errorf("broker: advertised address %q: %w", adv, err)
	}
	p, _ := strconv.Atoi(port)
	s.advHost, s.advPort = host, int32(p)
	// Background work starts here, not in Serve, so that Close never
	// waits on a WaitGroup that Serve is still adding to.
	s.wg.Add(2)
	go s.retentionLoop()
	go s.txnExpiryLoop()
	return s, nil
}

// Addr is the address the listener is bound to.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// ClusterID is the cluster id reported in Metadata.
func (s *Server) ClusterID() string { return s.clusterID }

// Serve accepts connections until Close. Background work (retention,
// compaction, transaction timeouts) runs from New on.
func (s *Server) Serve() error {
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			if s.ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporaryAcceptError(err) {
				// Out of file descriptors (too many clients or
				// partitions) or a client gone before accept: keep
				// serving the connections we have and try again.
				s.logger.Warn("accepting a connection failed; retrying", "err", err)
				time.Sleep(50 * time.Millisecond)
				continue
			}
			return err
		}
		c := newConn(s, nc)
		s.connMu.Lock()
		if s.ctx.Err() != nil { // Close has begun: its Wait must not race an Add
			s.connMu.Unlock()
			nc.Close()
			return nil
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.connMu.Unlock()
		go func() {
			defer s.wg.Done()
			c.serve()
			s.connMu.Lock()
			delete(s.conns, c)
			s.connMu.Unlock()
		}()
	}
}

func isTemporaryAcceptError(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM)
}

// Close stops accepting, closes every connection, then flushes and closes
// every partition log.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() { err = s.close() })
	return err
}

func (s *Server) close() error {
	s.cancel()
	s.ln.Close()
	s.connMu.Lock()
	for c := range s.conns {
		c.nc.Close()
	}
	s.connMu.Unlock()
	s.wg.Wait()
	s.groups.Close()
	s.topics.closeAll()
	return s.flusher.Close()
}

func (s *Server) retentionLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.RetentionCheck)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case now := <-t.C:
			s.enforceRetention(now)
		}
	}
}

// enforceRetention applies retention, then compaction for compacted topics,
// to every partition.
func (s *Server) enforceRetention(now time.Time) {
	for _, t := range s.topics.all() {
		for p, l := range t.partitions {
			n, err := l.EnforceRetention(now)
			if err != nil {
				s.logger.Warn("retention", "topic", t.Name, "partition", p, "err", err)
			} else if n > 0 {
				s.logger.Debug("retention deleted segments", "topic", t.Name, "partition", p, "segments", n)
			}
			if l.Config().Compact {
				if st, err := l.Compact(now); err != nil {
					s.logger.Warn("compaction", "topic", t.Name, "partition", p, "err", err)
				} else if st.Cleaned {
					s.logger.Debug("compacted", "topic", t.Name, "partition", p, "segments_read", st.SegmentsRead,
						"segments_written", st.SegmentsWritten, "records_removed", st.RecordsRemoved, "dirty_ratio", st.DirtyRatio)
				}
			}
		}
	}
}

func (s *Server) storageHooks() storage.Hooks {
	return storage.Hooks{Flusher: s.flusher}
}

// loadClusterID reads the cluster id from meta/cluster.json, creating one
// the first time (22 characters of base64, like Kafka's).
func loadClusterID(dataDir string) (string, error) {
	path := filepath.Join(dataDir, "meta", "cluster.json")
	var m struct {
		ClusterID string `json:"cluster_id"`
	}
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &m); err != nil || m.ClusterID == "" {
			return "", fmt.Errorf("broker: %s is damaged: %v", path, err)
		}
		return m.ClusterID, nil
	}
	var id [16]byte
	rand.Read(id[:])
	m.ClusterID = base64.RawURLEncoding.EncodeToString(id[:])
	b, _ := json.Marshal(m)
	return m.ClusterID, writeFileAtomic(path, b)
}
