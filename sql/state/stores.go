package state

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Options configure the stores of one query.
type Options struct {
	// Dir is the state directory; a store lives in Dir/<query>/<store>/<partition>.
	Dir string
	// ServiceID is ksql.service.id (default "default_"); it prefixes changelog names.
	ServiceID string
	// QueryID is the query id (CTAS_X_1 ...).
	QueryID string
	// Producer writes changelog records: the query's producer or transaction
	// session, with its partitioner wrapped by Partitioner.
	Producer Producer
	// ClientOptions reach the cluster (seed brokers, TLS, SASL) for changelog
	// creation and restore.
	ClientOptions []kgo.Opt
	// Partitions is the changelog partition count: the input partition count.
	Partitions int32
	// TopicConfig adds configs to changelog topics created here.
	TopicConfig map[string]string
	// CacheBytes is the pebble block cache shared by the query's stores
	// (default 64 MiB; Kafka Streams gives each RocksDB 50 MB).
	CacheBytes int64
	Logger     *slog.Logger
	Metrics    *Metrics

	// Local keeps state without a changelog: no Producer or cluster is
	// needed and nothing is restored. With Dir empty the stores live in
	// memory. For `sluice test` (the ksql-test-runner) and unit tests of
	// stateful operators, where there is no broker.
	Local bool
}

// Stores opens and commits the state stores of one query. Its methods are
// for the query's processing goroutine; metrics may scrape concurrently.
type Stores struct {
	opts   Options
	cl     *kgo.Client
	adm    *kadm.Client
	cache  interface{ Unref() }
	pcache *pebble.Options

	// readMu is held shared by pull-query reads (read.go) and exclusively
	// while stores close, so a read never sees a closed pebble DB. Lock
	// order: readMu before mu.
	readMu sync.RWMutex
	mu     sync.Mutex
	open   map[storeID]*entry
	closed bool

	// rollbacks counts Abort and ClosePartition calls: operators that cache
	// positions in their stores (EMIT FINAL's scan start) drop the cache
	// when it changes, since writes they saw may be gone.
	rollbacks atomic.Uint64
}

// Rollbacks is the number of Abort and ClosePartition calls so far.
func (s *Stores) Rollbacks() uint64 { return s.rollbacks.Load() }

type storeID struct {
	name      string
	partition int32
}

type kind int

const (
	kindKV kind = iota
	kindWindow
	kindSession
)

type entry struct {
	kind      kind
	s         *store
	retention int64
	handle    any
	extra     func(*pebble.Batch) error // store-kind bookkeeping on commit
	onAbort   func()
}

var legalName = regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)

// NewStores prepares the stores of one query; it opens none.
func NewStores(opts Options) (*Stores, error) {
	switch {
	case opts.Dir == "" && !opts.Local:
		return nil, errors.New("state: Options.Dir is empty")
	case !legalName.MatchString(opts.QueryID):
		return nil, fmt.Errorf("state: query id %q: want letters, digits, '.', '_' or '-'", opts.QueryID)
	case opts.Producer == nil && !opts.Local:
		return nil, errors.New("state: Options.Producer is nil")
	case opts.Partitions <= 0:
		return nil, fmt.Errorf("state: Options.Partitions is %d, want the input partition count", opts.Partitions)
	}
	if opts.ServiceID == "" {
		opts.ServiceID = DefaultServiceID
	}
	if opts.CacheBytes <= 0 {
		opts.CacheBytes = 64 << 20
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Metrics == nil {
		opts.Metrics = DefaultMetrics()
	}
	var cl *kgo.Client
	var adm *kadm.Client
	if !opts.Local {
		var err error
		if cl, err = kgo.NewClient(opts.ClientOptions...); err != nil {
			return nil, fmt.Errorf("state: query %s: client: %w", opts.QueryID, err)
		}
		adm = kadm.NewClient(cl)
	}
	cache := pebble.NewCache(opts.CacheBytes)
	s := &Stores{opts: opts, cl: cl, adm: adm, cache: cache, open: map[storeID]*entry{},
		pcache: &pebble.Options{Cache: cache, Logger: pebbleLogger{opts.Logger}, MemTableSize: 16 << 20}}
	// No block compression, as Kafka Streams' RocksDB stores
	// (NO_COMPRESSION): state is a cache of its changelog, and compressing
	// every flushed and compacted block, then decompressing every block
	// read, cost a window join storing every record ~5% of its CPU.
	s.pcache.ApplyCompressionSettings(func() pebble.DBCompressionSettings { return pebble.DBCompressionNone })
	if opts.Local && opts.Dir == "" {
		s.pcache.FS = vfs.NewMem()
	}
	opts.Metrics.track(s, true)
	return s, nil
}

// ChangelogTopic is the changelog topic of the query's store name.
func (s *Stores) ChangelogTopic(name string) string {
	return ChangelogTopic(s.opts.ServiceID, s.opts.QueryID, name)
}

// KeyValue opens (restoring it if needed) the key-value store name of an
// input partition, or returns it if already open.
func (s *Stores) KeyValue(ctx context.Context, name string, partition int32) (*KeyValueStore, error) {
	e, err := s.get(ctx, name, partition, kindKV, 0)
	if err != nil {
		return nil, err
	}
	return e.handle.(*KeyValueStore), nil
}

// Window opens the window store name of an input partition; windows older
// than retention (stream time minus retention) expire.
func (s *Stores) Window(ctx context.Context, name string, partition int32, retention time.Duration) (*WindowStore, error) {
	e, err := s.get(ctx, name, partition, kindWindow, retention.Milliseconds())
	if err != nil {
		return nil, err
	}
	return e.handle.(*WindowStore), nil
}

// Session opens the session store name of an input partition; sessions
// ending before stream time minus retention expire.
func (s *Stores) Session(ctx context.Context, name string, partition int32, retention time.Duration) (*SessionStore, error) {
	e, err := s.get(ctx, name, partition, kindSession, retention.Milliseconds())
	if err != nil {
		return nil, err
	}
	return e.handle.(*SessionStore), nil
}

func (s *Stores) get(ctx context.Context, name string, partition int32, k kind, retention int64) (*entry, error) {
	if partition < 0 || partition >= s.opts.Partitions {
		return nil, fmt.Errorf("state: store %s: partition %d out of range [0, %d)", name, partition, s.opts.Partitions)
	}
	if (k != kindKV) && retention <= 0 {
		return nil, fmt.Errorf("state: store %s: retention must be positive", name)
	}
	id := storeID{name, partition}
	s.mu.Lock()
	e, closed := s.open[id], s.closed
	s.mu.Unlock()
	if closed {
		return nil, fmt.Errorf("state: store %s: Stores closed", name)
	}
	if e != nil {
		if e.kind != k || e.retention != retention {
			return nil, fmt.Errorf("state: store %s partition %d is already open as another kind or retention", name, partition)
		}
		return e, nil
	}
	// The name is checked when a store opens, not on every lookup of an
	// open one (operators look their stores up for each record).
	if !legalName.MatchString(name) {
		return nil, fmt.Errorf("state: store name %q: want letters, digits, '.', '_' or '-'", name)
	}
	e, err := s.openStore(ctx, name, partition, k, retention)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.open[id] = e
	s.mu.Unlock()
	return e, nil
}

func (s *Stores) openStore(ctx context.Context, name string, partition int32, k kind, retention int64) (*entry, error) {
	topic := s.ChangelogTopic(name)
	if !s.opts.Local {
		if err := ensureChangelog(ctx, s.adm, topic, s.opts.Partitions, retention, s.opts.TopicConfig); err != nil {
			return nil, fmt.Errorf("state: query %s store %s: %w", s.opts.QueryID, name, err)
		}
	}
	dir := filepath.Join(s.opts.Dir, s.opts.QueryID, name, strconv.Itoa(int(partition)))
	if s.pcache.FS == nil {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("state: %w", err)
		}
	}
	popts := *s.pcache
	db, err := pebble.Open(dir, &popts)
	if err != nil {
		return nil, fmt.Errorf("state: open %s: %w", dir, err)
	}
	st := &store{query: s.opts.QueryID, name: name, topic: topic, partition: partition, dir: dir, db: db,
		prod: s.opts.Producer, log: s.opts.Logger}
	fail := func(err error) (*entry, error) {
		_ = db.Close()
		return nil, err
	}
	if st.checkpoint, _, err = readInt64(db, checkpointKey); err != nil {
		return fail(fmt.Errorf("%s: read checkpoint: %w", st, err))
	}
	e := &entry{kind: k, s: st, retention: retention}
	var apply func(b *pebble.Batch, key, value []byte, ts int64) error
	var wipe func()
	switch k {
	case kindKV:
		kv := &KeyValueStore{s: st}
		e.handle, apply = kv, kv.restoreRecord
	case kindWindow, kindSession:
		seg := newSegments(retention)
		t, ok, err := readInt64(db, streamTimeKey)
		if err != nil {
			return fail(fmt.Errorf("%s: read stream time: %w", st, err))
		}
		if ok {
			seg.streamTime, seg.committed = t, t
		}
		if k == kindWindow {
			w := &WindowStore{s: st, seg: seg}
			e.handle, apply = w, w.restoreRecord
			e.extra, e.onAbort, wipe = w.seg.commit, w.seg.abort, func() { w.seg = newSegments(retention) }
		} else {
			ss := &SessionStore{s: st, seg: seg}
			e.handle, apply = ss, ss.restoreRecord
			e.extra, e.onAbort, wipe = ss.seg.commit, ss.seg.abort, func() { ss.seg = newSegments(retention) }
		}
	}
	if s.opts.Local {
		st.newBatch()
		return e, nil
	}
	stats, err := st.restore(ctx, s.cl, s.opts.ClientOptions, apply, e.extra, wipe)
	if err != nil {
		return fail(err)
	}
	s.opts.Metrics.restored(s.opts.QueryID, name, stats)
	s.opts.Logger.Info("state store restored", "query", s.opts.QueryID, "store", name, "partition", partition,
		"from", stats.from, "to", stats.to, "records", stats.records, "bytes", stats.bytes, "took", stats.took, "wiped", stats.wiped)
	st.newBatch()
	return e, nil
}

// FlushChangelogs produces the changelog records of the writes since the
// last flush in every open store: one per changelog key, with its latest
// value and the timestamp of the record that wrote it. Call it when the
// batch's processing is done, before flushing the producer (or ending the
// transaction) and Commit.
func (s *Stores) FlushChangelogs() {
	for _, e := range s.entries() {
		e.s.flushChanges()
	}
}

// Commit makes the writes since the last Commit durable with their
// changelog checkpoint, in every open store. Call it after FlushChangelogs
// and after the changelog writes are acknowledged (producer flushed) and,
// under exactly_once_v2, after the transaction committed.
func (s *Stores) Commit() error {
	var errs error
	for _, e := range s.entries() {
		errs = errors.Join(errs, e.s.commit(e.extra))
	}
	return errs
}

// ChangelogErr reports the changelog writes that failed since the last
// Commit or Abort, in every open store. Under exactly_once_v2 the runner
// checks it, after flushing the producer, before it commits the
// transaction: one that lacks some of its changelog records must abort.
func (s *Stores) ChangelogErr() error {
	var errs error
	for _, e := range s.entries() {
		e.s.mu.Lock()
		errs = errors.Join(errs, e.s.prodErr)
		e.s.mu.Unlock()
	}
	return errs
}

// Abort drops the writes since the last Commit in every open store (the
// transaction that carried their changelog records aborted).
func (s *Stores) Abort() {
	s.rollbacks.Add(1)
	for _, e := range s.entries() {
		e.s.abort()
		if e.onAbort != nil {
			e.onAbort()
		}
	}
}

// ClosePartition closes the stores of a revoked input partition, dropping
// uncommitted writes. Their files stay, so a reassignment replays only the
// changelog tail.
func (s *Stores) ClosePartition(partition int32) error {
	s.rollbacks.Add(1)
	s.readMu.Lock()
	defer s.readMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs error
	for id, e := range s.open {
		if id.partition == partition {
			errs = errors.Join(errs, e.s.close())
			delete(s.open, id)
		}
	}
	return errs
}

// Close closes every store; uncommitted writes are dropped.
func (s *Stores) Close() error {
	s.opts.Metrics.track(s, false)
	s.readMu.Lock()
	defer s.readMu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	var errs error
	for id, e := range s.open {
		errs = errors.Join(errs, e.s.close())
		delete(s.open, id)
	}
	s.mu.Unlock()
	s.cache.Unref()
	if s.cl != nil {
		s.cl.Close()
	}
	return errs
}

func (s *Stores) entries() []*entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*entry, 0, len(s.open))
	for _, e := range s.open {
		out = append(out, e)
	}
	return out
}

type storeSize struct {
	store     string
	partition int32
	bytes     uint64
}

func (s *Stores) sizes() []storeSize {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]storeSize, 0, len(s.open))
	for id, e := range s.open {
		out = append(out, storeSize{id.name, id.partition, e.s.sizeBytes()})
	}
	return out
}

// pebbleLogger sends pebble's messages to slog at debug level (errors at
// error level); pebble is chatty at info.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug("pebble: " + fmt.Sprintf(format, args...))
}
func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error("pebble: " + fmt.Sprintf(format, args...))
}
func (p pebbleLogger) Fatalf(format string, args ...any) {
	p.l.Error("pebble fatal: " + fmt.Sprintf(format, args...))
	os.Exit(1)
}
