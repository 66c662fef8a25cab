package registry

// The store keeps the registry's state in a compacted, single-partition
// Kafka topic (_schemas by default), with Confluent-style JSON keys and
// values:
//
//	SCHEMA  {"keytype":"SCHEMA","subject":"s","version":1,"magic":1}
//	        -> {"subject","version","id","schemaType","references","metadata","ruleSet","schema","deleted","guid"}
//	CONFIG  {"keytype":"CONFIG","subject":"s"|null,"magic":0} -> {"compatibilityLevel","normalize"}
//	MODE    {"keytype":"MODE","subject":"s"|null,"magic":0}   -> {"mode"}
//	NOOP    {"keytype":"NOOP","magic":0}                      -> {} (read-your-writes marker)
//	SLUICE_MAX_ID {"keytype":"SLUICE_MAX_ID","magic":0}       -> {"maxId"}
//	SLUICE_WRITER {"keytype":"SLUICE_WRITER","epoch":n,"magic":0} -> {"node","url","epoch"}
//
// A null value (tombstone) removes a key: a permanently deleted version, a
// removed config or mode. SLUICE_MAX_ID is written on permanent deletes so
// that the highest id ever given survives compaction of its SCHEMA record.
//
// Invariants:
//   - Every change is produced to the topic first and applied to memory only
//     when the reader goroutine reads it back, so every node sharing the
//     topic applies the same changes in the same order.
//   - A node serves nothing before it has read the topic up to a NOOP marker
//     it wrote at start, i.e. everything written before it started.
//   - Ids are never reused: the next id is one more than the highest id seen
//     in any SCHEMA record or SLUICE_MAX_ID record.
//   - Writers on one node are serialized by writeMu. Without an election
//     (WithWriterElection), several nodes writing at once may race on ids
//     and versions; the topic order decides, last write wins per key.
//   - With an election, only the elected writer writes state records. Each
//     election winner announces itself with SLUICE_WRITER and an epoch one
//     above the last announced; its records carry that epoch in the
//     sluice.writer.epoch header. A record whose epoch is below the last
//     announced epoch at its place in the topic is ignored by every node,
//     so a deposed writer that has not noticed yet cannot change state.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	contract "github.com/sluicedata/sluice/serde/rules"
)

type recordKey struct {
	Keytype string  `json:"keytype"`
	Subject *string `json:"subject,omitempty"`
	Version int     `json:"version,omitempty"`
	Epoch   int64   `json:"epoch,omitempty"` // SLUICE_WRITER: one key per epoch, so compaction keeps every announcement
	Magic   int     `json:"magic"`
}

// configKey keeps "subject":null for the global config, as Confluent writes.
type configKey struct {
	Keytype string  `json:"keytype"`
	Subject *string `json:"subject"`
	Magic   int     `json:"magic"`
}

type schemaValue struct {
	Subject    string          `json:"subject"`
	Version    int             `json:"version"`
	ID         int             `json:"id"`
	SchemaType string          `json:"schemaType,omitempty"`
	References []Reference     `json:"references,omitempty"`
	Metadata   json.RawMessage `json:"metadata,omitempty"`
	RuleSet    json.RawMessage `json:"ruleSet,omitempty"`
	Schema     string          `json:"schema"`
	Deleted    bool            `json:"deleted"`
	// GUID is the schema's global id (Confluent's newer serializers put it
	// in record headers). Records written before GUIDs have none; the
	// reader derives the same value from the schema's hash.
	GUID string `json:"guid,omitempty"`
}

type configValue struct {
	CompatibilityLevel string          `json:"compatibilityLevel"`
	Normalize          *bool           `json:"normalize,omitempty"`
	CompatibilityGroup string          `json:"compatibilityGroup,omitempty"`
	DefaultMetadata    json.RawMessage `json:"defaultMetadata,omitempty"`
	OverrideMetadata   json.RawMessage `json:"overrideMetadata,omitempty"`
	DefaultRuleSet     json.RawMessage `json:"defaultRuleSet,omitempty"`
	OverrideRuleSet    json.RawMessage `json:"overrideRuleSet,omitempty"`
}

type modeValue struct {
	Mode string `json:"mode"`
}

type maxIDValue struct {
	MaxID int `json:"maxId"`
}

type writerValue struct {
	Node  string `json:"node"`
	URL   string `json:"url"`
	Epoch int64  `json:"epoch"`
}

// epochHeader carries the writer epoch of a state record.
const epochHeader = "sluice.writer.epoch"

// version is one version of a subject.
type version struct {
	Version  int
	ID       int
	Type     string
	Text     string
	Refs     []Reference
	Metadata json.RawMessage // data-contract metadata, stored and returned as given (compacted)
	RuleSet  json.RawMessage // data-contract rules, likewise
	Deleted  bool
	GUID     string
	hash     string
}

// state is the in-memory view rebuilt from the topic.
type state struct {
	subjects map[string][]*version // sorted by Version
	byID     map[int][]*version    // every version (any subject) using an id
	byHash   map[string]int        // schema hash -> id, while some version uses it
	byGUID   map[string]int        // guid -> id, while some version uses it
	maxID    int
	config   map[string]configValue // "" is the global config
	mode     map[string]string      // "" is the global mode
	writer   writerValue            // the last announced writer

	// celCheck compiles the CEL expressions of rule sets registered (it
	// caches compiled programs).
	celCheck *contract.Executor
}

func newState(celCheck *contract.Executor) state {
	return state{celCheck: celCheck, subjects: map[string][]*version{}, byID: map[int][]*version{}, byHash: map[string]int{}, byGUID: map[string]int{}, config: map[string]configValue{}, mode: map[string]string{}}
}

// store reads and writes the _schemas topic.
type store struct {
	cl     *kgo.Client
	topic  string
	logger *slog.Logger

	writeMu sync.Mutex // serializes read-modify-write operations of this node

	mu      sync.RWMutex
	st      state
	next    int64         // offset after the last applied record
	applied chan struct{} // closed and replaced whenever next moves

	// elect is the writer election, nil when every node may write.
	elect *election

	cancel context.CancelFunc
	done   chan struct{}
}

func openStore(ctx context.Context, brokers []string, topic string, logger *slog.Logger) (*store, error) {
	adm, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return nil, err
	}
	err = createTopic(ctx, kadm.NewClient(adm), topic)
	adm.Close()
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(0),
		kgo.FetchMaxWait(500*time.Millisecond),
	)
	if err != nil {
		return nil, err
	}
	celCheck, err := contract.NewExecutor()
	if err != nil {
		cl.Close()
		return nil, fmt.Errorf("CEL environment: %w", err)
	}
	rctx, cancel := context.WithCancel(context.Background())
	s := &store{cl: cl, topic: topic, logger: logger, st: newState(celCheck), applied: make(chan struct{}), cancel: cancel, done: make(chan struct{})}
	go s.readLoop(rctx)
	// Read everything written before us: write a marker and wait for it.
	if err := s.sync(ctx); err != nil {
		s.close()
		return nil, fmt.Errorf("read %s to its end: %w", topic, err)
	}
	return s, nil
}

func createTopic(ctx context.Context, adm *kadm.Client, topic string) error {
	resp, err := adm.CreateTopics(ctx, 1, 1, map[string]*string{"cleanup.policy": kadm.StringPtr("compact")}, topic)
	if err != nil {
		return fmt.Errorf("create topic %s: %w", topic, err)
	}
	for _, r := range resp {
		if r.Err != nil && !errors.Is(r.Err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("create topic %s: %w", topic, r.Err)
		}
	}
	return nil
}

func (s *store) close() {
	s.cancel()
	<-s.done
	s.cl.Close()
}

func (s *store) readLoop(ctx context.Context) {
	defer close(s.done)
	for {
		fetches := s.cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return
		}
		fetches.EachError(func(t string, p int32, err error) {
			s.logger.Warn("schema registry: reading topic", "topic", t, "partition", p, "err", err)
		})
		var last int64 = -1
		s.mu.Lock()
		fetches.EachRecord(func(r *kgo.Record) {
			epoch := int64(-1)
			for _, h := range r.Headers {
				if h.Key == epochHeader {
					if n, err := strconv.ParseInt(string(h.Value), 10, 64); err == nil {
						epoch = n
					}
				}
			}
			if epoch >= 0 && epoch < s.st.writer.Epoch {
				s.logger.Warn("schema registry: ignoring a record of a deposed writer", "offset", r.Offset,
					"epoch", epoch, "current", s.st.writer.Epoch)
			} else if err := s.st.apply(r.Key, r.Value); err != nil {
				s.logger.Warn("schema registry: skipping record", "offset", r.Offset, "err", err)
			}
			last = r.Offset
		})
		if last >= s.next {
			s.next = last + 1
			close(s.applied)
			s.applied = make(chan struct{})
		}
		s.mu.Unlock()
	}
}

// waitApplied waits until the record at offset has been applied.
func (s *store) waitApplied(ctx context.Context, offset int64) error {
	for {
		s.mu.RLock()
		ok, ch := s.next > offset, s.applied
		s.mu.RUnlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// write produces key/value (value nil: tombstone) and waits until it is
// applied to the in-memory state. With an election, only the writer writes
// state records (callers hold writeMu, which keeps the epoch stable).
func (s *store) write(ctx context.Context, key, value any) error {
	k, err := json.Marshal(key)
	if err != nil {
		return err
	}
	var headers []kgo.RecordHeader
	epoch := int64(-1)
	if s.elect != nil && !isMarker(key) {
		var ok bool
		if epoch, ok = s.elect.writerEpoch(); !ok {
			url := s.writerURL()
			if url == "" {
				return errUnknownLeader("This schema registry node is not the writer and no writer is known yet; retry")
			}
			return errUnknownLeader("This schema registry node is not the writer; send writes to %s", url)
		}
		headers = []kgo.RecordHeader{{Key: epochHeader, Value: []byte(strconv.FormatInt(epoch, 10))}}
	}
	var v []byte
	if value != nil {
		// No HTML escaping: raw metadata and rule sets must read back
		// byte for byte, as their hash is part of the schema's identity.
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(value); err != nil {
			return err
		}
		v = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	}
	res := s.cl.ProduceSync(ctx, &kgo.Record{Topic: s.topic, Partition: 0, Key: k, Value: v, Headers: headers})
	r, err := res.First()
	if err != nil {
		return fmt.Errorf("write to %s: %w", s.topic, err)
	}
	if err := s.waitApplied(ctx, r.Offset); err != nil {
		return err
	}
	if epoch >= 0 {
		s.mu.RLock()
		current := s.st.writer.Epoch
		s.mu.RUnlock()
		if current != epoch {
			return errForwarding("This node lost the writer role during the write (epoch %d, now %d); retry", epoch, current)
		}
	}
	return nil
}

// isMarker tells the records any node may write: NOOP and SLUICE_WRITER.
func isMarker(key any) bool {
	k, ok := key.(recordKey)
	return ok && (k.Keytype == "NOOP" || k.Keytype == "SLUICE_WRITER")
}

// writerURL is the URL of the last announced writer.
func (s *store) writerURL() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.st.writer.URL
}

// sync makes the state include everything written to the topic before now.
func (s *store) sync(ctx context.Context) error {
	return s.write(ctx, recordKey{Keytype: "NOOP"}, struct{}{})
}

// apply changes the state for one record of the topic.
func (st *state) apply(key, value []byte) error {
	var k recordKey
	if err := json.Unmarshal(key, &k); err != nil {
		return fmt.Errorf("bad key %q: %w", key, err)
	}
	subject := ""
	if k.Subject != nil {
		subject = *k.Subject
	}
	switch k.Keytype {
	case "SCHEMA":
		if value == nil {
			st.removeVersion(subject, k.Version)
			return nil
		}
		var v schemaValue
		if err := json.Unmarshal(value, &v); err != nil {
			return fmt.Errorf("bad SCHEMA value: %w", err)
		}
		typ := normType(v.SchemaType)
		hash := schemaHash(typ, v.Schema, v.References, v.Metadata, v.RuleSet)
		guid := v.GUID
		if guid == "" {
			guid = guidOf(hash)
		}
		st.putVersion(v.Subject, &version{Version: v.Version, ID: v.ID, Type: typ, Text: v.Schema, Refs: v.References,
			Metadata: v.Metadata, RuleSet: v.RuleSet, Deleted: v.Deleted, GUID: guid, hash: hash})
		st.maxID = max(st.maxID, v.ID)
	case "CONFIG":
		if value == nil {
			delete(st.config, subject)
			return nil
		}
		var v configValue
		if err := json.Unmarshal(value, &v); err != nil {
			return fmt.Errorf("bad CONFIG value: %w", err)
		}
		st.config[subject] = v
	case "MODE":
		if value == nil {
			delete(st.mode, subject)
			return nil
		}
		var v modeValue
		if err := json.Unmarshal(value, &v); err != nil {
			return fmt.Errorf("bad MODE value: %w", err)
		}
		st.mode[subject] = v.Mode
	case "SLUICE_WRITER":
		var v writerValue
		if value != nil && json.Unmarshal(value, &v) == nil && v.Epoch > st.writer.Epoch {
			st.writer = v
		}
	case "SLUICE_MAX_ID":
		var v maxIDValue
		if value != nil && json.Unmarshal(value, &v) == nil {
			st.maxID = max(st.maxID, v.MaxID)
		}
	}
	// NOOP, DELETE_SUBJECT, CLEAR_SUBJECT and unknown key types change nothing.
	return nil
}

func (st *state) putVersion(subject string, v *version) {
	st.byID[v.ID] = append(st.byID[v.ID], v)
	st.byHash[v.hash] = v.ID
	st.byGUID[v.GUID] = v.ID
	vs := st.subjects[subject]
	i := sort.Search(len(vs), func(i int) bool { return vs[i].Version >= v.Version })
	if i < len(vs) && vs[i].Version == v.Version {
		st.unindex(vs[i])
		vs[i] = v
		return
	}
	vs = append(vs, nil)
	copy(vs[i+1:], vs[i:])
	vs[i] = v
	st.subjects[subject] = vs
}

func (st *state) removeVersion(subject string, ver int) {
	vs := st.subjects[subject]
	for i, v := range vs {
		if v.Version == ver {
			st.unindex(v)
			vs = append(vs[:i:i], vs[i+1:]...)
			break
		}
	}
	if len(vs) == 0 {
		delete(st.subjects, subject)
		return
	}
	st.subjects[subject] = vs
}

// unindex drops v from the id and hash indexes.
func (st *state) unindex(v *version) {
	vs := slices.DeleteFunc(st.byID[v.ID], func(x *version) bool { return x == v })
	if len(vs) > 0 {
		st.byID[v.ID] = vs
		return
	}
	delete(st.byID, v.ID)
	if st.byHash[v.hash] == v.ID {
		delete(st.byHash, v.hash)
	}
	if st.byGUID[v.GUID] == v.ID {
		delete(st.byGUID, v.GUID)
	}
}

// schemaByID finds the schema with id under any subject, preferring a live
// version.
func (st *state) schemaByID(id int) *version {
	var found *version
	for _, v := range st.byID[id] {
		if found == nil || found.Deleted && !v.Deleted {
			found = v
		}
	}
	return found
}

// idByHash finds the id already given to a schema with this hash.
func (st *state) idByHash(hash string) (int, bool) {
	id, ok := st.byHash[hash]
	return id, ok
}
