package broker

// The topic registry: which topics exist, their ids, partition logs and
// config overrides. Topic metadata is one JSON file per topic under
// <data>/meta/topics/, written atomically; partition logs live in
// <data>/logs/<topic>-<partition>/ as in Kafka. A topic is created by
// writing its partition directories first and its metadata file last, and
// deleted in the opposite order, so a crash never leaves metadata pointing
// at missing logs; directories without metadata are removed on start.

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/sluicedata/sluice/broker/storage"
)

// Topic is one topic and its partition logs.
type Topic struct {
	Name       string
	ID         [16]byte
	Internal   bool
	partitions []*storage.Log
	overrides  map[string]string // config overrides, by key
	validation atomic.Uint32     // schema validation flags (schema_validation.go), read on produce
}

// Partitions returns the partition logs, indexed by partition number.
func (t *Topic) Partitions() []*storage.Log { return t.partitions }

// Partition returns one partition's log, or nil when it (or the topic:
// t may be nil) does not exist.
func (t *Topic) Partition(p int32) *storage.Log {
	if t == nil || p < 0 || int(p) >= len(t.partitions) {
		return nil
	}
	return t.partitions[p]
}

type topicMeta struct {
	Name       string            `json:"name"`
	ID         string            `json:"id"`
	Partitions int               `json:"partitions"`
	Configs    map[string]string `json:"configs,omitempty"`
}

// topicRegistry holds all topics. Lookups take the read lock; create,
// delete and config changes take the write lock.
type topicRegistry struct {
	s       *Server
	metaDir string
	logDir  string

	mu     sync.RWMutex
	byName map[string]*Topic
	byID   map[[16]byte]*Topic
}

var legalTopicName = regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)

var errInvalidTopicName = errors.New("invalid topic name")

// validateTopicName applies Kafka's rules for topic names.
func validateTopicName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: the name is empty", errInvalidTopicName)
	case name == "." || name == "..":
		return fmt.Errorf("%w: %q is not allowed", errInvalidTopicName, name)
	case len(name) > 249:
		return fmt.Errorf("%w: the name is %d characters long, the limit is 249", errInvalidTopicName, len(name))
	case !legalTopicName.MatchString(name):
		return fmt.Errorf("%w: %q contains characters other than ASCII letters, digits, '.', '_' and '-'", errInvalidTopicName, name)
	}
	return nil
}

func newTopicRegistry(s *Server) (*topicRegistry, error) {
	r := &topicRegistry{s: s, metaDir: filepath.Join(s.cfg.DataDir, "meta", "topics"), logDir: filepath.Join(s.cfg.DataDir, "logs"),
		byName: map[string]*Topic{}, byID: map[[16]byte]*Topic{}}
	for _, d := range []string{r.metaDir, r.logDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	return r, r.load()
}

func (r *topicRegistry) load() error {
	metas, err := filepath.Glob(filepath.Join(r.metaDir, "*.json"))
	if err != nil {
		return err
	}
	owned := map[string]bool{}
	for _, path := range metas {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var m topicMeta
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("topic metadata %s: %w", path, err)
		}
		id, err := parseUUID(m.ID)
		if err != nil {
			return fmt.Errorf("topic metadata %s: %w", path, err)
		}
		t := &Topic{Name: m.Name, ID: id, Internal: isInternalTopic(m.Name), overrides: m.Configs}
		if t.overrides == nil {
			t.overrides = map[string]string{}
		}
		t.validation.Store(validationFlags(t.overrides))
		for p := 0; p < m.Partitions; p++ {
			dir := r.partitionDir(m.Name, int32(p))
			owned[filepath.Base(dir)] = true
			l, err := storage.Open(dir, effectiveConfig(t.overrides), r.s.logger, r.s.storageHooks())
			if err != nil {
				return err
			}
			t.partitions = append(t.partitions, l)
		}
		r.byName[t.Name], r.byID[t.ID] = t, t
	}
	// Partition directories without metadata are leftovers of a crash in
	// the middle of a create or delete.
	entries, _ := os.ReadDir(r.logDir)
	for _, e := range entries {
		if !owned[e.Name()] {
			r.s.logger.Info("removing partition directory without topic metadata", "dir", e.Name())
			os.RemoveAll(filepath.Join(r.logDir, e.Name()))
		}
	}
	return nil
}

// metaPath names a topic's metadata file by topic id: names can be 249
// characters long, too long for a file name with a suffix.
func (r *topicRegistry) metaPath(t *Topic) string {
	return filepath.Join(r.metaDir, formatUUID(t.ID)+".json")
}

func (r *topicRegistry) partitionDir(topic string, p int32) string {
	return filepath.Join(r.logDir, topic+"-"+strconv.Itoa(int(p)))
}

func (r *topicRegistry) get(name string) *Topic {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.byName[name]
}

func (r *topicRegistry) getByID(id [16]byte) *Topic {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.byID[id]
}

// all returns the topics sorted by name.
func (r *topicRegistry) all() []*Topic {
	r.mu.RLock()
	out := make([]*Topic, 0, len(r.byName))
	for _, t := range r.byName {
		out = append(out, t)
	}
	r.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (r *topicRegistry) writeMeta(t *Topic) error {
	m := topicMeta{Name: t.Name, ID: formatUUID(t.ID), Partitions: len(t.partitions), Configs: t.overrides}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(r.metaPath(t), b)
}

// errTopicExists and friends let handlers pick the Kafka error code.
var (
	errTopicExists       = errors.New("topic already exists")
	errInvalidPartitions = errors.New("invalid partition count")
	errInvalidConfig     = errors.New("invalid config")
)

// create makes a topic with n partitions and the given config overrides.
// With validateOnly it checks everything and creates nothing.
func (r *topicRegistry) create(name string, n int32, configs map[string]string, validateOnly bool) (*Topic, error) {
	if err := validateTopicName(name); err != nil {
		return nil, err
	}
	if n <= 0 {
		return nil, fmt.Errorf("%w: %d (must be at least 1)", errInvalidPartitions, n)
	}
	if n > 100000 {
		return nil, fmt.Errorf("%w: %d is more than this broker allows (100000)", errInvalidPartitions, n)
	}
	for k, v := range configs {
		v := v
		if err := validateTopicConfig(k, &v); err != nil {
			return nil, fmt.Errorf("%w: %v", errInvalidConfig, err)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byName[name] != nil {
		return nil, fmt.Errorf("%w: %s", errTopicExists, name)
	}
	if validateOnly {
		return &Topic{Name: name, overrides: configs, partitions: make([]*storage.Log, n)}, nil
	}
	t := &Topic{Name: name, Internal: isInternalTopic(name), overrides: map[string]string{}}
	for k, v := range configs {
		t.overrides[k] = v
	}
	t.validation.Store(validationFlags(t.overrides))
	if _, err := rand.Read(t.ID[:]); err != nil {
		return nil, err
	}
	if err := r.openPartitions(t, 0, n); err != nil {
		return nil, err
	}
	if err := r.writeMeta(t); err != nil {
		for _, l := range t.partitions {
			l.Remove()
		}
		return nil, err
	}
	r.byName[name], r.byID[t.ID] = t, t
	r.s.logger.Info("created topic", "topic", name, "partitions", n)
	return t, nil
}

func (r *topicRegistry) openPartitions(t *Topic, from, to int32) error {
	cfg := effectiveConfig(t.overrides)
	for p := from; p < to; p++ {
		dir := r.partitionDir(t.Name, p)
		os.RemoveAll(dir) // a leftover of an earlier topic with this name
		l, err := storage.Open(dir, cfg, r.s.logger, r.s.storageHooks())
		if err != nil {
			for _, o := range t.partitions[from:] {
				o.Remove()
			}
			t.partitions = t.partitions[:from]
			return err
		}
		t.partitions = append(t.partitions, l)
	}
	return nil
}

// addPartitions grows a topic to n partitions.
func (r *topicRegistry) addPartitions(name string, n int32, validateOnly bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.byName[name]
	if t == nil {
		return errUnknownTopic
	}
	cur := int32(len(t.partitions))
	if n <= cur {
		return fmt.Errorf("%w: topic %s has %d partitions, the new count %d must be larger", errInvalidPartitions, name, cur, n)
	}
	if n > 100000 {
		return fmt.Errorf("%w: %d is more than this broker allows (100000)", errInvalidPartitions, n)
	}
	if validateOnly {
		return nil
	}
	// Copy on write: readers hold the old topic and its slice.
	nt := &Topic{Name: t.Name, ID: t.ID, Internal: t.Internal, overrides: t.overrides,
		partitions: append([]*storage.Log(nil), t.partitions...)}
	nt.validation.Store(t.validation.Load())
	if err := r.openPartitions(nt, cur, n); err != nil {
		return err
	}
	if err := r.writeMeta(nt); err != nil {
		return err
	}
	r.byName[name], r.byID[t.ID] = nt, nt
	return nil
}

var errUnknownTopic = errors.New("unknown topic")

// remove deletes a topic: metadata first, then its logs.
func (r *topicRegistry) remove(name string) (*Topic, error) {
	r.mu.Lock()
	t := r.byName[name]
	if t == nil {
		r.mu.Unlock()
		return nil, errUnknownTopic
	}
	if err := os.Remove(r.metaPath(t)); err != nil {
		r.mu.Unlock()
		return nil, err
	}
	delete(r.byName, name)
	delete(r.byID, t.ID)
	r.mu.Unlock()
	syncDirBestEffort(r.metaDir)
	for _, l := range t.partitions {
		if err := l.Remove(); err != nil {
			r.s.logger.Warn("removing partition log", "topic", name, "err", err)
		}
	}
	r.s.logger.Info("deleted topic", "topic", name)
	return t, nil
}

// setConfigs replaces a topic's overrides after validating them all.
func (r *topicRegistry) setConfigs(name string, overrides map[string]string, validateOnly bool) error {
	for k, v := range overrides {
		v := v
		if err := validateTopicConfig(k, &v); err != nil {
			return fmt.Errorf("%w: %v", errInvalidConfig, err)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.byName[name]
	if t == nil {
		return errUnknownTopic
	}
	if validateOnly {
		return nil
	}
	old := t.overrides
	t.overrides = overrides
	if err := r.writeMeta(t); err != nil {
		t.overrides = old
		return err
	}
	cfg := effectiveConfig(overrides)
	for _, l := range t.partitions {
		l.SetConfig(cfg)
	}
	t.validation.Store(validationFlags(overrides))
	return nil
}

func (r *topicRegistry) overrides(t *Topic) map[string]string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make(map[string]string, len(t.overrides))
	for k, v := range t.overrides {
		out[k] = v
	}
	return out
}

func (r *topicRegistry) closeAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range r.byName {
		for _, l := range t.partitions {
			if err := l.Close(); err != nil {
				r.s.logger.Warn("closing partition log", "topic", t.Name, "err", err)
			}
		}
	}
}

func isInternalTopic(name string) bool {
	return name == "__consumer_offsets" || name == "__transaction_state"
}

func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	syncDirBestEffort(filepath.Dir(path))
	return nil
}

func syncDirBestEffort(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

func formatUUID(id [16]byte) string {
	h := fmt.Sprintf("%x", id[:])
	return strings.Join([]string{h[0:8], h[8:12], h[12:16], h[16:20], h[20:]}, "-")
}

func parseUUID(s string) ([16]byte, error) {
	var id [16]byte
	h := strings.ReplaceAll(s, "-", "")
	if len(h) != 32 {
		return id, fmt.Errorf("bad topic id %q", s)
	}
	for i := 0; i < 16; i++ {
		v, err := strconv.ParseUint(h[2*i:2*i+2], 16, 8)
		if err != nil {
			return id, fmt.Errorf("bad topic id %q", s)
		}
		id[i] = byte(v)
	}
	return id, nil
}
