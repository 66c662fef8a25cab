// Package registry is a Confluent-compatible schema registry: schemas and
// their versions per subject, compatibility rules per format, configs and
// modes, stored in a compacted Kafka topic and served over Confluent's REST
// API (see Handler).
package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	contract "github.com/sluicedata/sluice/serde/rules"
)

// Modes.
const (
	ModeReadWrite = "READWRITE"
	ModeReadOnly  = "READONLY"
	ModeImport    = "IMPORT"
)

// Registry is a schema registry backed by a Kafka topic.
type Registry struct {
	s       *store
	logger  *slog.Logger
	maxBody int64
	// forwardClient sends followers' write requests to the writer.
	forwardClient *http.Client
}

// Option configures a Registry.
type Option func(*options)

type options struct {
	topic   string
	logger  *slog.Logger
	maxBody int64
	elect   electionConfig
}

// WithTopic sets the storage topic (default "_schemas", Confluent's
// kafkastore.topic).
func WithTopic(t string) Option { return func(o *options) { o.topic = t } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithMaxBodyBytes limits the size of request bodies (default 8 MiB); larger
// requests are refused with 42209 before anything is parsed or stored.
func WithMaxBodyBytes(n int64) Option { return func(o *options) { o.maxBody = n } }

// WithWriterElection makes the nodes sharing the storage topic elect one
// writer through the Kafka consumer group groupID (Confluent's
// schema.registry.group.id; "schema-registry" is Confluent's default).
// advertisedURL is where this node's REST API is reached by the other nodes:
// followers forward write requests there. Without an election every node
// writes, which is safe only for one node at a time.
func WithWriterElection(groupID, advertisedURL string) Option {
	return func(o *options) { o.elect.groupID, o.elect.url = groupID, advertisedURL }
}

// WithElectionTimeouts sets the group session timeout (how long a writer
// that died without leaving keeps the role; default 10s) and heartbeat
// interval (how soon the others notice a rebalance; default 1s).
func WithElectionTimeouts(session, heartbeat time.Duration) Option {
	return func(o *options) { o.elect.sessionTimeout, o.elect.heartbeatInterval = session, heartbeat }
}

// Open connects to the Kafka cluster at brokers, creates the storage topic
// if needed (compacted, one partition) and reads it to its end, so the
// returned Registry serves everything stored before.
func Open(ctx context.Context, brokers []string, opts ...Option) (*Registry, error) {
	o := options{topic: "_schemas", logger: slog.New(slog.NewTextHandler(io.Discard, nil)), maxBody: 8 << 20,
		elect: electionConfig{sessionTimeout: 10 * time.Second, heartbeatInterval: time.Second}}
	for _, f := range opts {
		f(&o)
	}
	if o.elect.groupID != "" && o.elect.url == "" {
		return nil, fmt.Errorf("schema registry: the writer election needs this node's advertised URL")
	}
	s, err := openStore(ctx, brokers, o.topic, o.logger)
	if err != nil {
		return nil, err
	}
	if o.elect.groupID != "" {
		e, err := startElection(brokers, s, o.elect, o.logger)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("schema registry: join writer election group %q: %w", o.elect.groupID, err)
		}
		s.elect = e
	}
	return &Registry{s: s, logger: o.logger, maxBody: o.maxBody, forwardClient: &http.Client{Timeout: 30 * time.Second}}, nil
}

// Close leaves the writer election (another node takes over), stops
// reading the topic and closes the Kafka clients.
func (r *Registry) Close() {
	if r.s.elect != nil {
		r.s.elect.close()
	}
	r.s.close()
}

// SchemaRequest is the body of register, lookup and compatibility requests.
type SchemaRequest struct {
	Schema     string          `json:"schema"`
	SchemaType string          `json:"schemaType,omitempty"`
	References []Reference     `json:"references,omitempty"`
	Metadata   json.RawMessage `json:"metadata,omitempty"`
	RuleSet    json.RawMessage `json:"ruleSet,omitempty"`
	ID         int             `json:"id,omitempty"`
	Version    int             `json:"version,omitempty"`
}

// SubjectVersion describes one version of a subject.
type SubjectVersion struct {
	Subject    string          `json:"subject"`
	Version    int             `json:"version"`
	ID         int             `json:"id"`
	SchemaType string          `json:"schemaType,omitempty"`
	References []Reference     `json:"references,omitempty"`
	Metadata   json.RawMessage `json:"metadata,omitempty"`
	RuleSet    json.RawMessage `json:"ruleSet,omitempty"`
	Schema     string          `json:"schema"`
	GUID       string          `json:"guid,omitempty"`
}

func (v *version) out(subject string) SubjectVersion {
	sv := SubjectVersion{Subject: subject, Version: v.Version, ID: v.ID, References: v.Refs, Schema: v.Text,
		Metadata: v.Metadata, RuleSet: v.RuleSet, GUID: v.GUID}
	if v.Type != TypeAvro {
		sv.SchemaType = v.Type
	}
	return sv
}

func validSubject(s string) bool {
	if s == "" || len(s) > 4096 {
		return false
	}
	for _, c := range s {
		if unicode.IsControl(c) {
			return false
		}
	}
	return true
}

// versionArg parses a version path segment: 1..2^31-1, "latest" or -1
// (returned as -1).
func versionArg(s string) (int, error) {
	if s == "latest" {
		return -1, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n == 0 || n < -1 || n > math.MaxInt32 {
		return 0, errInvalidVersion(s)
	}
	return n, nil
}

// --- state queries; callers hold s.mu for reading ---

func (st *state) live(subject string, deleted bool) []*version {
	var out []*version
	for _, v := range st.subjects[subject] {
		if deleted || !v.Deleted {
			out = append(out, v)
		}
	}
	return out
}

func (st *state) level(subject string) string {
	if c, ok := st.config[subject]; ok && c.CompatibilityLevel != "" {
		return c.CompatibilityLevel
	}
	if c, ok := st.config[""]; ok && c.CompatibilityLevel != "" {
		return c.CompatibilityLevel
	}
	return Backward
}

func (st *state) normalize(subject string) bool {
	if c, ok := st.config[subject]; ok && c.Normalize != nil {
		return *c.Normalize
	}
	if c, ok := st.config[""]; ok && c.Normalize != nil {
		return *c.Normalize
	}
	return false
}

func (st *state) modeOf(subject string) string {
	if m, ok := st.mode[subject]; ok {
		return m
	}
	if m, ok := st.mode[""]; ok {
		return m
	}
	return ModeReadWrite
}

// getVersion finds version n (-1: latest) of subject.
func (st *state) getVersion(subject string, n int, deleted bool) (*version, error) {
	all := st.subjects[subject]
	vs := st.live(subject, deleted)
	if len(all) == 0 || len(vs) == 0 && !deleted {
		return nil, errSubjectNotFound(subject)
	}
	if n == -1 {
		if len(vs) == 0 {
			return nil, errVersionNotFound(subject, n)
		}
		return vs[len(vs)-1], nil
	}
	for _, v := range vs {
		if v.Version == n {
			return v, nil
		}
	}
	return nil, errVersionNotFound(subject, n)
}

// resolveRefs returns the references of a schema with their texts,
// dependencies first (depth-first, each once).
func (st *state) resolveRefs(refs []Reference) ([]resolvedRef, error) {
	var out []resolvedRef
	seen := map[Reference]bool{}
	var visit func(refs []Reference, depth int) error
	visit = func(refs []Reference, depth int) error {
		if depth > 32 {
			return fmt.Errorf("references nest deeper than 32 levels")
		}
		for _, ref := range refs {
			if ref.Name == "" || ref.Subject == "" {
				return fmt.Errorf("reference %+v needs a name and a subject", ref)
			}
			v, err := st.getVersion(ref.Subject, ref.Version, true)
			if err != nil || ref.Version == 0 {
				return fmt.Errorf("reference %q: subject %q version %d not found", ref.Name, ref.Subject, ref.Version)
			}
			key := Reference{Name: ref.Name, Subject: ref.Subject, Version: v.Version}
			if seen[key] {
				continue
			}
			seen[key] = true
			if err := visit(v.Refs, depth+1); err != nil {
				return err
			}
			out = append(out, resolvedRef{Reference: key, Type: v.Type, Text: v.Text})
		}
		return nil
	}
	return out, visit(refs, 0)
}

// prepared is a request schema that parsed.
type prepared struct {
	typ    string
	text   string
	refs   []Reference
	meta   json.RawMessage
	rules  json.RawMessage
	hash   string
	parsed parsed
}

func (st *state) prepare(req SchemaRequest, normalize bool) (*prepared, error) {
	typ := normType(req.SchemaType)
	if typ != TypeAvro && typ != TypeJSON && typ != TypeProtobuf {
		return nil, errInvalidSchema("of unknown schemaType %q: use AVRO, JSON or PROTOBUF", req.SchemaType)
	}
	if strings.TrimSpace(req.Schema) == "" {
		return nil, errInvalidSchema("(empty): the request needs a \"schema\" field")
	}
	refs, err := st.resolveRefs(req.References)
	if err != nil {
		return nil, errInvalidSchema("%s", err)
	}
	text, err := canonicalText(typ, req.Schema, normalize)
	if err != nil {
		return nil, errInvalidSchema("%s", err)
	}
	p, err := parseSchema(typ, text, refs)
	if err != nil {
		return nil, errInvalidSchema("%s", err)
	}
	meta, err := compactObject(req.Metadata)
	if err != nil {
		return nil, errInvalidSchema("metadata: %s", err)
	}
	rules, err := compactObject(req.RuleSet)
	if err != nil {
		return nil, errf(422, 42210, "Invalid ruleSet: %s", err)
	}
	rs, _, err := contract.Parse(rules, meta)
	if err != nil {
		return nil, errf(422, 42210, "Invalid ruleSet or metadata: %s", err)
	}
	if err := st.celCheck.CheckExpressions(rs); err != nil {
		return nil, errf(422, 42210, "Invalid ruleSet: %s", err)
	}
	return &prepared{typ: typ, text: text, refs: req.References, meta: meta, rules: rules,
		hash: schemaHash(typ, text, req.References, meta, rules), parsed: p}, nil
}

// parsedVersions parses stored versions for compatibility checks.
func (st *state) parsedVersions(vs []*version) ([]parsed, []int, error) {
	var ps []parsed
	var ns []int
	for _, v := range vs {
		refs, err := st.resolveRefs(v.Refs)
		if err != nil {
			return nil, nil, err
		}
		p, err := parseSchema(v.Type, v.Text, refs)
		if err != nil {
			return nil, nil, fmt.Errorf("stored version %d: %w", v.Version, err)
		}
		ps = append(ps, p)
		ns = append(ns, v.Version)
	}
	return ps, ns, nil
}

// --- operations ---

// Register registers a schema under subject and returns its id.
func (r *Registry) Register(ctx context.Context, subject string, req SchemaRequest, normalize bool) (int, error) {
	sv, err := r.RegisterVersion(ctx, subject, req, normalize)
	return sv.ID, err
}

// RegisterVersion registers a schema under subject (or finds it registered)
// and returns the version holding it. A request without metadata or ruleSet
// takes those of the subject's latest version, as Confluent's registry does,
// so that re-registering a schema text keeps its data contract.
func (r *Registry) RegisterVersion(ctx context.Context, subject string, req SchemaRequest, normalize bool) (SubjectVersion, error) {
	if !validSubject(subject) {
		return SubjectVersion{}, errInvalidSubject(subject)
	}
	r.s.writeMu.Lock()
	defer r.s.writeMu.Unlock()
	if err := r.s.sync(ctx); err != nil {
		return SubjectVersion{}, errStore(err)
	}
	r.s.mu.RLock()
	val, existing, err := r.planRegister(subject, req, normalize)
	r.s.mu.RUnlock()
	if err != nil {
		return SubjectVersion{}, err
	}
	if existing != nil {
		return existing.out(subject), nil
	}
	if err := r.s.write(ctx, recordKey{Keytype: "SCHEMA", Subject: &subject, Version: val.Version, Magic: 1}, val); err != nil {
		return SubjectVersion{}, errStore(err)
	}
	r.s.mu.RLock()
	defer r.s.mu.RUnlock()
	v, err := r.s.st.getVersion(subject, val.Version, true)
	if err != nil { // removed again by another node in the meantime
		return SubjectVersion{}, errStore(err)
	}
	return v.out(subject), nil
}

// planRegister decides what Register writes, or returns the live version
// already holding the schema.
func (r *Registry) planRegister(subject string, req SchemaRequest, normalize bool) (*schemaValue, *version, error) {
	st := &r.s.st
	mode := st.modeOf(subject)
	if mode == ModeReadOnly {
		return nil, nil, errNotPermitted("Subject %s is in read-only mode", subject)
	}
	if (req.ID != 0 || req.Version != 0) && mode != ModeImport {
		return nil, nil, errNotPermitted("Overriding the schema id or version is only permitted in IMPORT mode (subject %s is in %s mode)", subject, mode)
	}
	live := st.live(subject, false)
	if err := st.withContract(subject, live, &req); err != nil {
		return nil, nil, err
	}
	p, err := st.prepare(req, normalize || st.normalize(subject))
	if err != nil {
		return nil, nil, err
	}
	for _, v := range live {
		if v.hash == p.hash && (req.ID == 0 || req.ID == v.ID) {
			return nil, v, nil
		}
	}
	val := &schemaValue{Subject: subject, Schema: p.text, References: p.refs, SchemaType: p.typ, Metadata: p.meta,
		RuleSet: p.rules, GUID: guidOf(p.hash)}
	if p.typ == TypeAvro {
		val.SchemaType = ""
	}
	if mode == ModeImport {
		if req.ID <= 0 || req.Version <= 0 {
			return nil, nil, errNotPermitted("In IMPORT mode a registration must give both id and version")
		}
		if other := st.schemaByID(req.ID); other != nil && other.hash != p.hash {
			return nil, nil, errIDMismatch("Schema id %d is already used by a different schema", req.ID)
		}
		val.ID, val.Version = req.ID, req.Version
		return val, nil, nil
	}
	level := st.level(subject)
	prev, nums, err := st.parsedVersions(inGroup(live, st.contractConfig(subject).CompatibilityGroup, p.meta))
	if err != nil {
		return nil, nil, errStore(err)
	}
	if msgs := checkCompat(level, p.parsed, prev, nums); len(msgs) > 0 {
		return nil, nil, errIncompatible(msgs)
	}
	if id, ok := st.idByHash(p.hash); ok {
		val.ID = id
	} else {
		val.ID = st.maxID + 1
	}
	val.Version = 1
	if all := st.subjects[subject]; len(all) > 0 {
		val.Version = all[len(all)-1].Version + 1
	}
	return val, nil, nil
}

// withContract gives a request without metadata or rule set those of the
// subject's latest live version, then merges the config's defaults and
// overrides.
func (st *state) withContract(subject string, live []*version, req *SchemaRequest) error {
	if len(live) > 0 {
		latest := live[len(live)-1]
		if isEmptyJSON(req.Metadata) {
			req.Metadata = latest.Metadata
		}
		if isEmptyJSON(req.RuleSet) {
			req.RuleSet = latest.RuleSet
		}
	}
	return st.applyContractConfig(subject, req)
}

func isEmptyJSON(raw json.RawMessage) bool {
	t := strings.TrimSpace(string(raw))
	return t == "" || t == "null"
}

// Lookup finds the version of subject holding the request's schema.
func (r *Registry) Lookup(subject string, req SchemaRequest, normalize, deleted bool) (SubjectVersion, error) {
	r.s.mu.RLock()
	defer r.s.mu.RUnlock()
	st := &r.s.st
	vs := st.live(subject, deleted)
	if len(vs) == 0 {
		return SubjectVersion{}, errSubjectNotFound(subject)
	}
	p, err := st.prepare(req, normalize || st.normalize(subject))
	if err != nil {
		return SubjectVersion{}, err
	}
	for i := len(vs) - 1; i >= 0; i-- {
		if vs[i].hash == p.hash {
			return vs[i].out(subject), nil
		}
	}
	// A request without metadata and ruleSet matches a version with the
	// same schema whatever its data contract (newest first), as the
	// contract is carried over on registration.
	if isEmptyJSON(req.Metadata) && isEmptyJSON(req.RuleSet) {
		for i := len(vs) - 1; i >= 0; i-- {
			if schemaHash(p.typ, p.text, p.refs, vs[i].Metadata, vs[i].RuleSet) == vs[i].hash {
				return vs[i].out(subject), nil
			}
		}
	}
	return SubjectVersion{}, errSchemaNotFound()
}

// Compatible checks the request's schema against version n (-1 latest, 0
// all versions the subject's level selects) of subject; with a
// compatibilityGroup, latest and all mean those of the schema's group.
func (r *Registry) Compatible(subject string, n int, req SchemaRequest, normalize bool) ([]string, error) {
	r.s.mu.RLock()
	defer r.s.mu.RUnlock()
	st := &r.s.st
	live := st.live(subject, false)
	if err := st.withContract(subject, live, &req); err != nil {
		return nil, err
	}
	p, err := st.prepare(req, normalize || st.normalize(subject))
	if err != nil {
		return nil, err
	}
	var against []*version
	switch {
	case n == 0 || n == -1:
		against = inGroup(live, st.contractConfig(subject).CompatibilityGroup, p.meta)
		if n == -1 && len(against) > 0 {
			against = against[len(against)-1:]
		}
	default:
		v, err := st.getVersion(subject, n, false)
		if err != nil {
			return nil, err
		}
		against = []*version{v}
	}
	prev, nums, err := st.parsedVersions(against)
	if err != nil {
		return nil, errStore(err)
	}
	return checkCompat(st.level(subject), p.parsed, prev, nums), nil
}

// Subjects lists subject names, sorted.
func (r *Registry) Subjects(prefix string, deleted, deletedOnly bool) []string {
	r.s.mu.RLock()
	defer r.s.mu.RUnlock()
	out := []string{}
	for s, vs := range r.s.st.subjects {
		if !strings.HasPrefix(s, prefix) {
			continue
		}
		hasLive := slices.ContainsFunc(vs, func(v *version) bool { return !v.Deleted })
		hasDeleted := slices.ContainsFunc(vs, func(v *version) bool { return v.Deleted })
		if deletedOnly && hasDeleted || !deletedOnly && (hasLive || deleted) {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// Versions lists the version numbers of subject.
func (r *Registry) Versions(subject string, deleted, deletedOnly bool) ([]int, error) {
	r.s.mu.RLock()
	defer r.s.mu.RUnlock()
	all := r.s.st.subjects[subject]
	out := []int{}
	for _, v := range all {
		if deletedOnly && v.Deleted || !deletedOnly && (deleted || !v.Deleted) {
			out = append(out, v.Version)
		}
	}
	if len(all) == 0 || len(out) == 0 && !deleted && !deletedOnly {
		return nil, errSubjectNotFound(subject)
	}
	return out, nil
}

// Version returns version n (-1 latest) of subject.
func (r *Registry) Version(subject string, n int, deleted bool) (SubjectVersion, error) {
	r.s.mu.RLock()
	defer r.s.mu.RUnlock()
	v, err := r.s.st.getVersion(subject, n, deleted)
	if err != nil {
		return SubjectVersion{}, err
	}
	return v.out(subject), nil
}

// SchemaByID returns the schema with id (Subject and Version of one of the
// subjects using it).
func (r *Registry) SchemaByID(id int) (SubjectVersion, error) {
	r.s.mu.RLock()
	defer r.s.mu.RUnlock()
	v := r.s.st.schemaByID(id)
	if v == nil {
		return SubjectVersion{}, errSchemaIDNotFound(id)
	}
	return v.out(""), nil
}

// LatestWithMetadata returns the newest version of subject whose
// metadata properties hold every key/value pair of props.
func (r *Registry) LatestWithMetadata(subject string, props map[string]string, deleted bool) (SubjectVersion, error) {
	r.s.mu.RLock()
	defer r.s.mu.RUnlock()
	vs := r.s.st.live(subject, deleted)
	if len(vs) == 0 {
		return SubjectVersion{}, errSubjectNotFound(subject)
	}
	for i := len(vs) - 1; i >= 0; i-- {
		_, m, err := contract.Parse(nil, vs[i].Metadata)
		if err != nil {
			continue
		}
		ok := true
		for k, v := range props {
			if m == nil || m.Properties[k] != v {
				ok = false
				break
			}
		}
		if ok {
			return vs[i].out(subject), nil
		}
	}
	return SubjectVersion{}, errf(404, 40403, "Schema with metadata %v not found in subject %s", props, subject)
}

// MaxID is the highest schema id given so far.
func (r *Registry) MaxID() int {
	r.s.mu.RLock()
	defer r.s.mu.RUnlock()
	return r.s.st.maxID
}

// SchemaByGUID returns the schema with the given GUID.
func (r *Registry) SchemaByGUID(guid string) (SubjectVersion, error) {
	r.s.mu.RLock()
	defer r.s.mu.RUnlock()
	id, ok := r.s.st.byGUID[strings.ToLower(guid)]
	if !ok {
		return SubjectVersion{}, errf(404, 40403, "Schema with GUID %s not found", guid)
	}
	return r.s.st.schemaByID(id).out(""), nil
}

// VersionsByID lists the subject versions using schema id.
func (r *Registry) VersionsByID(id int, deleted bool) ([]SubjectVersion, error) {
	r.s.mu.RLock()
	defer r.s.mu.RUnlock()
	var out []SubjectVersion
	for s, vs := range r.s.st.subjects {
		for _, v := range vs {
			if v.ID == id && (deleted || !v.Deleted) {
				out = append(out, SubjectVersion{Subject: s, Version: v.Version})
			}
		}
	}
	if len(out) == 0 {
		return nil, errSchemaIDNotFound(id)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Subject != out[j].Subject {
			return out[i].Subject < out[j].Subject
		}
		return out[i].Version < out[j].Version
	})
	return out, nil
}

// ReferencedBy lists the ids of live schemas that reference subject version n.
func (r *Registry) ReferencedBy(subject string, n int) ([]int, error) {
	r.s.mu.RLock()
	defer r.s.mu.RUnlock()
	v, err := r.s.st.getVersion(subject, n, false)
	if err != nil {
		return nil, err
	}
	return r.s.st.referencedBy(subject, v.Version), nil
}

func (st *state) referencedBy(subject string, n int) []int {
	ids := []int{}
	for _, vs := range st.subjects {
		for _, v := range vs {
			if v.Deleted {
				continue
			}
			for _, ref := range v.Refs {
				if ref.Subject == subject && ref.Version == n && !slices.Contains(ids, v.ID) {
					ids = append(ids, v.ID)
				}
			}
		}
	}
	sort.Ints(ids)
	return ids
}

// DeleteSubject soft-deletes every version of subject, or with permanent
// removes a soft-deleted subject. It returns the deleted version numbers.
func (r *Registry) DeleteSubject(ctx context.Context, subject string, permanent bool) ([]int, error) {
	r.s.writeMu.Lock()
	defer r.s.writeMu.Unlock()
	if err := r.s.sync(ctx); err != nil {
		return nil, errStore(err)
	}
	r.s.mu.RLock()
	st := &r.s.st
	all := slices.Clone(st.subjects[subject])
	var err error
	var nums []int
	switch {
	case len(all) == 0:
		err = errSubjectNotFound(subject)
	case st.modeOf(subject) == ModeReadOnly:
		err = errNotPermitted("Subject %s is in read-only mode", subject)
	}
	anyLive := false
	for _, v := range all {
		nums = append(nums, v.Version)
		if !v.Deleted {
			anyLive = true
			if refs := st.referencedBy(subject, v.Version); len(refs) > 0 && err == nil {
				err = errReferenceExists("One or more references exist to the schema {subject=%s,version=%d}", subject, v.Version)
			}
		}
	}
	if err == nil && !permanent && !anyLive {
		err = errSubjectSoftDeleted(subject)
	}
	if err == nil && permanent && anyLive {
		err = errSubjectNotSoftDeleted(subject)
	}
	r.s.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	for _, v := range all {
		if err := r.deleteVersion(ctx, subject, v, permanent); err != nil {
			return nil, errStore(err)
		}
	}
	return nums, nil
}

func (r *Registry) deleteVersion(ctx context.Context, subject string, v *version, permanent bool) error {
	key := recordKey{Keytype: "SCHEMA", Subject: &subject, Version: v.Version, Magic: 1}
	if !permanent {
		val := &schemaValue{Subject: subject, Version: v.Version, ID: v.ID, SchemaType: v.Type, References: v.Refs,
			Metadata: v.Metadata, RuleSet: v.RuleSet, Schema: v.Text, Deleted: true, GUID: v.GUID}
		if v.Type == TypeAvro {
			val.SchemaType = ""
		}
		return r.s.write(ctx, key, val)
	}
	r.s.mu.RLock()
	maxID := r.s.st.maxID
	r.s.mu.RUnlock()
	if err := r.s.write(ctx, recordKey{Keytype: "SLUICE_MAX_ID"}, maxIDValue{MaxID: maxID}); err != nil {
		return err
	}
	return r.s.write(ctx, key, nil)
}

// DeleteVersion soft-deletes version n (-1 latest) of subject, or with
// permanent removes a soft-deleted version. It returns the version number.
func (r *Registry) DeleteVersion(ctx context.Context, subject string, n int, permanent bool) (int, error) {
	r.s.writeMu.Lock()
	defer r.s.writeMu.Unlock()
	if err := r.s.sync(ctx); err != nil {
		return 0, errStore(err)
	}
	r.s.mu.RLock()
	st := &r.s.st
	v, err := st.getVersion(subject, n, permanent)
	if err == nil && st.modeOf(subject) == ModeReadOnly {
		err = errNotPermitted("Subject %s is in read-only mode", subject)
	}
	if err == nil && !permanent && v.Deleted {
		err = errVersionSoftDeleted(subject, v.Version)
	}
	if err == nil && permanent && !v.Deleted {
		err = errVersionNotSoftDeleted(subject, v.Version)
	}
	if err == nil && !v.Deleted && len(st.referencedBy(subject, v.Version)) > 0 {
		err = errReferenceExists("One or more references exist to the schema {subject=%s,version=%d}", subject, v.Version)
	}
	r.s.mu.RUnlock()
	if err != nil {
		// A soft-deleted version asked for without permanent is reported as such.
		if e, ok := err.(*Error); ok && e.Code == 40402 && !permanent {
			r.s.mu.RLock()
			dv, derr := st.getVersion(subject, n, true)
			r.s.mu.RUnlock()
			if derr == nil && dv.Deleted {
				return 0, errVersionSoftDeleted(subject, dv.Version)
			}
		}
		return 0, err
	}
	if err := r.deleteVersion(ctx, subject, v, permanent); err != nil {
		return 0, errStore(err)
	}
	return v.Version, nil
}

// Config is a subject's or the global configuration.
type Config struct {
	CompatibilityLevel string `json:"compatibilityLevel"`
	Normalize          *bool  `json:"normalize,omitempty"`
	// CompatibilityGroup names a metadata property: a new version is
	// checked only against versions with the same value of it.
	CompatibilityGroup string `json:"compatibilityGroup,omitempty"`
	// Default* are merged under, Override* over, the metadata and rule set
	// of every schema registered (Confluent's data-contract defaults).
	DefaultMetadata  json.RawMessage `json:"defaultMetadata,omitempty"`
	OverrideMetadata json.RawMessage `json:"overrideMetadata,omitempty"`
	DefaultRuleSet   json.RawMessage `json:"defaultRuleSet,omitempty"`
	OverrideRuleSet  json.RawMessage `json:"overrideRuleSet,omitempty"`
}

// GetConfig returns the config of subject ("" global). With defaultToGlobal
// a subject without its own config answers the global one.
func (r *Registry) GetConfig(subject string, defaultToGlobal bool) (Config, error) {
	r.s.mu.RLock()
	defer r.s.mu.RUnlock()
	st := &r.s.st
	if c, ok := st.config[subject]; ok {
		if c.CompatibilityLevel == "" { // only normalize was set
			c.CompatibilityLevel = st.level(subject)
		}
		return Config(c), nil
	}
	if subject != "" && !defaultToGlobal {
		return Config{}, errSubjectConfigNotFound(subject)
	}
	if c, ok := st.config[""]; ok {
		return Config(c), nil
	}
	return Config{CompatibilityLevel: Backward}, nil
}

// SetConfig sets the config of subject ("" global).
func (r *Registry) SetConfig(ctx context.Context, subject string, c Config) (Config, error) {
	c.CompatibilityLevel = strings.ToUpper(c.CompatibilityLevel)
	empty := c.CompatibilityLevel == "" && c.Normalize == nil && c.CompatibilityGroup == "" &&
		isEmptyJSON(c.DefaultMetadata) && isEmptyJSON(c.OverrideMetadata) && isEmptyJSON(c.DefaultRuleSet) && isEmptyJSON(c.OverrideRuleSet)
	if empty || c.CompatibilityLevel != "" && !validLevel(c.CompatibilityLevel) {
		return Config{}, errInvalidCompatibility(c.CompatibilityLevel)
	}
	if subject != "" && !validSubject(subject) {
		return Config{}, errInvalidSubject(subject)
	}
	for _, m := range []*json.RawMessage{&c.DefaultMetadata, &c.OverrideMetadata} {
		var err error
		if *m, err = compactObject(*m); err == nil {
			_, _, err = contract.Parse(nil, *m)
		}
		if err != nil {
			return Config{}, errf(422, 42210, "Invalid metadata in config: %s", err)
		}
	}
	for _, rs := range []*json.RawMessage{&c.DefaultRuleSet, &c.OverrideRuleSet} {
		var err error
		if *rs, err = compactObject(*rs); err == nil {
			_, _, err = contract.Parse(*rs, nil)
		}
		if err != nil {
			return Config{}, errf(422, 42210, "Invalid ruleSet in config: %s", err)
		}
	}
	r.s.writeMu.Lock()
	defer r.s.writeMu.Unlock()
	r.s.mu.RLock()
	old, had := r.s.st.config[subject]
	r.s.mu.RUnlock()
	if had { // fields not given keep their value
		if c.CompatibilityLevel == "" {
			c.CompatibilityLevel = old.CompatibilityLevel
		}
		if c.CompatibilityGroup == "" {
			c.CompatibilityGroup = old.CompatibilityGroup
		}
		for _, f := range []struct{ new, old *json.RawMessage }{{&c.DefaultMetadata, &old.DefaultMetadata},
			{&c.OverrideMetadata, &old.OverrideMetadata}, {&c.DefaultRuleSet, &old.DefaultRuleSet},
			{&c.OverrideRuleSet, &old.OverrideRuleSet}} {
			if isEmptyJSON(*f.new) {
				*f.new = *f.old
			}
		}
	}
	var subj *string
	if subject != "" {
		subj = &subject
	}
	if err := r.s.write(ctx, configKey{Keytype: "CONFIG", Subject: subj}, configValue(c)); err != nil {
		return Config{}, errStore(err)
	}
	return c, nil
}

// DeleteConfig removes the config of subject ("" global, back to the
// default BACKWARD) and returns the previous one.
func (r *Registry) DeleteConfig(ctx context.Context, subject string) (Config, error) {
	r.s.writeMu.Lock()
	defer r.s.writeMu.Unlock()
	r.s.mu.RLock()
	old, had := r.s.st.config[subject]
	_, known := r.s.st.subjects[subject]
	r.s.mu.RUnlock()
	if subject != "" && !had {
		if !known {
			return Config{}, errSubjectNotFound(subject)
		}
		return Config{}, errSubjectConfigNotFound(subject)
	}
	if !had {
		old = configValue{CompatibilityLevel: Backward}
	}
	var subj *string
	if subject != "" {
		subj = &subject
	}
	if err := r.s.write(ctx, configKey{Keytype: "CONFIG", Subject: subj}, nil); err != nil {
		return Config{}, errStore(err)
	}
	return Config(old), nil
}

// GetMode returns the mode of subject ("" global).
func (r *Registry) GetMode(subject string, defaultToGlobal bool) (string, error) {
	r.s.mu.RLock()
	defer r.s.mu.RUnlock()
	if m, ok := r.s.st.mode[subject]; ok {
		return m, nil
	}
	if subject != "" && !defaultToGlobal {
		return "", errSubjectModeNotFound(subject)
	}
	return r.s.st.modeOf(""), nil
}

// SetMode sets the mode of subject ("" global). IMPORT needs no schemas in
// scope unless force.
func (r *Registry) SetMode(ctx context.Context, subject, mode string, force bool) (string, error) {
	mode = strings.ToUpper(mode)
	switch mode {
	case ModeReadWrite, ModeReadOnly, ModeImport:
	default:
		return "", errInvalidMode(mode)
	}
	if subject != "" && !validSubject(subject) {
		return "", errInvalidSubject(subject)
	}
	r.s.writeMu.Lock()
	defer r.s.writeMu.Unlock()
	if err := r.s.sync(ctx); err != nil {
		return "", errStore(err)
	}
	if mode == ModeImport && !force {
		r.s.mu.RLock()
		nonEmpty := len(r.s.st.subjects) > 0
		if subject != "" {
			nonEmpty = len(r.s.st.subjects[subject]) > 0
		}
		r.s.mu.RUnlock()
		if nonEmpty {
			return "", errNotPermitted("Cannot import since found existing subjects; set force=true to switch to IMPORT anyway")
		}
	}
	var subj *string
	if subject != "" {
		subj = &subject
	}
	if err := r.s.write(ctx, configKey{Keytype: "MODE", Subject: subj}, modeValue{Mode: mode}); err != nil {
		return "", errStore(err)
	}
	return mode, nil
}

// DeleteMode removes the mode of subject and returns the previous one.
func (r *Registry) DeleteMode(ctx context.Context, subject string) (string, error) {
	r.s.writeMu.Lock()
	defer r.s.writeMu.Unlock()
	r.s.mu.RLock()
	old, had := r.s.st.mode[subject]
	r.s.mu.RUnlock()
	if !had {
		return "", errSubjectModeNotFound(subject)
	}
	if err := r.s.write(ctx, configKey{Keytype: "MODE", Subject: &subject}, nil); err != nil {
		return "", errStore(err)
	}
	return old, nil
}

// Registered tells whether schema id is registered (and not deleted) under
// subject: the check behind the broker's
// confluent.value.schema.validation topic setting.
func (r *Registry) Registered(subject string, id int) bool {
	r.s.mu.RLock()
	defer r.s.mu.RUnlock()
	for _, v := range r.s.st.subjects[subject] {
		if v.ID == id && !v.Deleted {
			return true
		}
	}
	return false
}
