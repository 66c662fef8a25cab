// Package group is the broker's consumer group coordinator for the classic
// group protocol (JoinGroup, SyncGroup, Heartbeat, LeaveGroup) and the
// committed offsets of every group.
//
// Invariants:
//   - All group state is owned by one goroutine (the coordinator loop);
//     handlers and timers hand it closures through Coordinator.do. Nothing
//     else touches a group, so there are no locks below this file.
//   - The loop never blocks on a client: a request that must wait (a join
//     until the rebalance completes, a sync until the leader's assignment,
//     a commit until it is on disk) gets a buffered reply channel that the
//     loop sends to at most once, and the broker's connection writer waits
//     on it.
//   - Committed offsets and group metadata are records of the internal
//     compacted topic __consumer_offsets, in Kafka's key and value formats;
//     the in-memory state is rebuilt from it on start (Load). Members are
//     not persisted: after a restart they rejoin.
package group

import (
	"context"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicedata/sluice/broker/storage"
)

// Config configures a Coordinator. Zero values get Kafka's defaults.
type Config struct {
	// Logs returns the partitions of __consumer_offsets, creating the
	// topic when create is set; with create unset it may return nil when
	// the topic does not exist yet.
	Logs func(create bool) ([]*storage.Log, error)
	// Partitions returns the partition count of a topic, or -1 when it
	// does not exist; offset commits for unknown partitions are refused.
	Partitions func(topic string) int32

	// InitialRebalanceDelay is group.initial.rebalance.delay.ms: how long
	// a new group waits for more members before its first generation
	// (default 3s; negative for none).
	InitialRebalanceDelay time.Duration
	// OffsetsRetention is offsets.retention.minutes (default 7 days):
	// offsets of a group that has been empty this long are deleted.
	OffsetsRetention time.Duration
	// RetentionCheck is offsets.retention.check.interval.ms (default 10 min).
	RetentionCheck time.Duration
	// MinSessionTimeout and MaxSessionTimeout bound the session timeout a
	// member may ask for (group.min/max.session.timeout.ms, 6s and 30 min).
	MinSessionTimeout, MaxSessionTimeout time.Duration
	// MaxMetadataBytes is offset.metadata.max.bytes (default 4096).
	MaxMetadataBytes int

	// TopicID and TopicName map topics to their ids and back, and Topics
	// lists the topics a KIP-848 regex subscription may match (not the
	// internal ones); KIP-848 groups need them.
	TopicID   func(topic string) ([16]byte, bool)
	TopicName func(id [16]byte) (string, bool)
	Topics    func() []string
	// ConsumerSessionTimeout is group.consumer.session.timeout.ms (45s)
	// and ConsumerHeartbeatInterval group.consumer.heartbeat.interval.ms
	// (5s), for KIP-848 members.
	ConsumerSessionTimeout, ConsumerHeartbeatInterval time.Duration

	Logger *slog.Logger
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
}

func (c *Config) defaults() {
	if c.InitialRebalanceDelay == 0 {
		c.InitialRebalanceDelay = 3 * time.Second
	} else if c.InitialRebalanceDelay < 0 {
		c.InitialRebalanceDelay = 0
	}
	if c.OffsetsRetention <= 0 {
		c.OffsetsRetention = 7 * 24 * time.Hour
	}
	if c.RetentionCheck <= 0 {
		c.RetentionCheck = 10 * time.Minute
	}
	if c.MinSessionTimeout <= 0 {
		c.MinSessionTimeout = 6 * time.Second
	}
	if c.MaxSessionTimeout <= 0 {
		c.MaxSessionTimeout = 30 * time.Minute
	}
	if c.MaxMetadataBytes <= 0 {
		c.MaxMetadataBytes = 4096
	}
	if c.ConsumerSessionTimeout <= 0 {
		c.ConsumerSessionTimeout = 45 * time.Second
	}
	if c.ConsumerHeartbeatInterval <= 0 {
		c.ConsumerHeartbeatInterval = 5 * time.Second
	}
	if c.TopicID == nil {
		c.TopicID = func(string) ([16]byte, bool) { return [16]byte{}, false }
	}
	if c.TopicName == nil {
		c.TopicName = func([16]byte) (string, bool) { return "", false }
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Partitions == nil {
		c.Partitions = func(string) int32 { return -1 }
	}
}

// Client describes the connection a request came from.
type Client struct {
	ID   string // client.id
	Host string // remote address
}

// Coordinator runs every group of this broker.
type Coordinator struct {
	cfg    Config
	log    *slog.Logger
	work   chan func()
	done   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc

	// Owned by the loop.
	groups map[string]*group
}

// New makes a coordinator. Call Load, then Start.
func New(cfg Config) *Coordinator {
	cfg.defaults()
	c := &Coordinator{cfg: cfg, log: cfg.Logger, work: make(chan func(), 256), done: make(chan struct{}),
		groups: map[string]*group{}}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c
}

// Start runs the coordinator loop until Close.
func (c *Coordinator) Start() {
	go c.loop()
}

func (c *Coordinator) loop() {
	defer close(c.done)
	t := time.NewTicker(c.cfg.RetentionCheck)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case fn := <-c.work:
			fn()
		case <-t.C:
			c.expireOffsets() // durability is not awaited: nobody is answered
		}
	}
}

// Close stops the loop; waiting requests are left unanswered (their
// connections are closing too).
func (c *Coordinator) Close() {
	c.cancel()
	<-c.done
}

// do runs fn on the loop. It returns false when the coordinator is closed.
func (c *Coordinator) do(fn func()) bool {
	select {
	case c.work <- fn:
		return true
	case <-c.ctx.Done():
		return false
	}
}

// after runs fn on the loop once d has passed.
func (c *Coordinator) after(d time.Duration, fn func()) *time.Timer {
	return time.AfterFunc(d, func() { c.do(fn) })
}

// call runs fn on the loop and returns a func, for the broker's connection
// writer, that waits for fn's answer (sent on the reply channel) or for
// ctx to end (the client went away: nil, no answer).
func (c *Coordinator) call(ctx context.Context, fn func(reply chan<- kmsg.Response)) func() kmsg.Response {
	reply := make(chan kmsg.Response, 1)
	if !c.do(func() { fn(reply) }) {
		return func() kmsg.Response { return nil }
	}
	return func() kmsg.Response {
		select {
		case r := <-reply: // an answer that is ready wins over a cancel
			return r
		default:
		}
		select {
		case r := <-reply:
			return r
		case <-ctx.Done():
			return nil
		case <-c.ctx.Done():
			return nil
		}
	}
}

// answer sends r on a reply channel made by call; it never blocks.
func answer(reply chan<- kmsg.Response, r kmsg.Response) {
	if reply != nil {
		select {
		case reply <- r:
		default:
		}
	}
}
