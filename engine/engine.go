// Package engine is Sluice's ksqlDB-compatible SQL server: it runs
// statements against a catalog (sql/plan), logs the ones that change state
// in the command topic (engine/commands) and replays them on start, runs
// persistent queries as Kafka consumer-group members (engine/queries) and
// streams push queries to clients. It implements the Backend of the REST API
// (engine/rest).
//
// Lock order: Engine.mu (statement execution, one at a time, as ksqlDB's
// command runner) is taken before anything in the catalog; query runners
// never call back into the engine.
package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicedata/sluice/engine/commands"
	"github.com/sluicedata/sluice/engine/queries"
	"github.com/sluicedata/sluice/engine/rest"
	"github.com/sluicedata/sluice/serde/srclient"
	"github.com/sluicedata/sluice/sql/ast"
	"github.com/sluicedata/sluice/sql/exec"
	"github.com/sluicedata/sluice/sql/funcs"
	"github.com/sluicedata/sluice/sql/parser"
	"github.com/sluicedata/sluice/sql/plan"
	"github.com/sluicedata/sluice/sql/state"
)

// Config says how to run the engine.
type Config struct {
	Brokers []string
	// ServiceID is ksql.service.id: it prefixes query consumer groups and
	// the processing-log topic. Default "default_".
	ServiceID string
	// CommandTopic defaults to _sluice-commands.
	CommandTopic string
	// Registry is the schema registry client for AVRO, PROTOBUF and
	// JSON_SR; nil leaves those formats unavailable.
	Registry *srclient.Client
	// Properties are server-wide defaults (ksql.streams.processing.guarantee,
	// auto.offset.reset ...), overridden by a request's properties.
	Properties map[string]string
	Logger     *slog.Logger
	// ClientOptions are added to every franz-go client.
	ClientOptions []kgo.Opt
	// Metrics defaults to queries.DefaultMetrics().
	Metrics *queries.Metrics
	// ConnectURL is the Kafka Connect REST API that CREATE/DROP/DESCRIBE
	// CONNECTOR and SHOW CONNECTORS go to (ksql.connect.url); "" disables
	// them.
	ConnectURL string
	// StateDir holds the local state stores of stateful queries
	// (<data-dir>/ksql-state under sluice dev). Stateful queries cannot
	// start without it.
	StateDir string
	// StateMetrics defaults to state.DefaultMetrics().
	StateMetrics *state.Metrics
}

// Engine is a running SQL server.
type Engine struct {
	cfg Config
	// tempState is the state directory Start made (removed by Close).
	tempState string
	log       *slog.Logger
	cl        *kgo.Client
	adm       *kadm.Client
	cmds      *commands.Log
	cat       *plan.Catalog
	plog      *processingLog
	funcs     *funcs.Registry
	cancel    context.CancelFunc

	mu       sync.Mutex
	running  map[string]*queries.Runner
	statuses map[string]rest.Status
	replayed bool
	pushSeq  int
}

// Start opens the command topic, replays it (streams, tables and queries come
// back; persistent queries continue from their committed offsets) and
// returns the engine ready for statements.
func Start(ctx context.Context, cfg Config) (*Engine, error) {
	if cfg.ServiceID == "" {
		cfg.ServiceID = "default_"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Metrics == nil {
		cfg.Metrics = queries.DefaultMetrics()
	}
	tempState := ""
	if cfg.StateDir == "" {
		// Stateful queries still run; their state is rebuilt from the
		// changelogs on every start.
		dir, err := os.MkdirTemp("", "sluice-ksql-state-")
		if err != nil {
			return nil, fmt.Errorf("state directory: %w", err)
		}
		cfg.StateDir = dir
		cfg.Logger.Warn("no state directory configured: using a temporary one", "dir", dir)
		tempState = dir
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(cfg.Brokers...), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(0)}, cfg.ClientOptions...)...)
	if err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg, tempState: tempState, log: cfg.Logger, cl: cl, adm: kadm.NewClient(cl), funcs: funcs.New(),
		running: map[string]*queries.Runner{}, statuses: map[string]rest.Status{}}
	e.plog = newProcessingLog(cl, cfg.ServiceID+"ksql_processing_log", cfg.Logger)
	opts := []plan.Option{plan.WithProcessingLog(e.plog), plan.WithLogger(cfg.Logger), plan.WithFunctions(e.funcs),
		plan.WithServiceID(cfg.ServiceID)}
	if cfg.Registry != nil {
		opts = append(opts, plan.WithSchemaRegistry(cfg.Registry))
	}
	e.cat = plan.NewCatalog(opts...)
	e.cmds, err = commands.Open(ctx, cfg.Brokers, cfg.CommandTopic, cfg.ClientOptions...)
	if err != nil {
		cl.Close()
		return nil, err
	}
	if err := e.ensureTopic(ctx, plan.TopicSpec{Name: e.plog.topic}, 1); err != nil {
		e.Close()
		return nil, err
	}
	if err := e.replay(ctx); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

// Close stops every query (offsets committed, transactions ended) and the
// clients. Statements and queries stay in the command topic for the next
// start.
func (e *Engine) Close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for id, r := range e.running {
		if err := r.Stop(); err != nil {
			e.log.Warn("stopping query", "query", id, "err", err)
		}
	}
	e.running = map[string]*queries.Runner{}
	e.cmds.Close()
	e.cl.Close()
	if e.tempState != "" {
		os.RemoveAll(e.tempState)
	}
}

// replay re-executes the command log in order. Queries are started at the
// end, so a query terminated later in the log never runs.
func (e *Engine) replay(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	toStart := map[string]*plan.Query{}
	queryProps := map[string]map[string]string{}
	var order []string
	paused := map[string]bool{}
	e.cat.SetRestoring(true)
	defer e.cat.SetRestoring(false)
	_, err := e.cmds.Replay(ctx, 0, func(c commands.Logged) error {
		stmt, err := parser.ParseStatement(c.Statement)
		if err != nil {
			return fmt.Errorf("command %d (%s): %w", c.Offset, c.ID, err)
		}
		switch s := stmt.(type) {
		case *ast.Pause:
			for _, id := range e.matchQueries(s.QueryID, s.All, order) {
				paused[id] = true
			}
			e.statuses[c.ID] = rest.Status{Status: "SUCCESS", Message: "Query paused."}
			return nil
		case *ast.Resume:
			for _, id := range e.matchQueries(s.QueryID, s.All, order) {
				delete(paused, id)
			}
			e.statuses[c.ID] = rest.Status{Status: "SUCCESS", Message: "Query resumed."}
			return nil
		}
		res, err := plan.Execute(ctx, e.cat, stmt, c.Properties)
		if err != nil {
			// A command that succeeded once and fails now means the
			// catalog differs from the one it ran against: say which.
			e.statuses[c.ID] = rest.Status{Status: "ERROR", Message: err.Error()}
			e.log.Error("replaying command failed", "offset", c.Offset, "id", c.ID, "err", err)
			return nil
		}
		e.statuses[c.ID] = rest.Status{Status: "SUCCESS", Message: res.Message}
		switch {
		case res.Kind == plan.PersistentQuery:
			// A query upgrade (CREATE OR REPLACE) keeps its id: only its
			// latest version starts, and it starts running.
			id := res.Query.ID
			res.Query.SQL = c.Statement
			if !slices.Contains(order, id) {
				order = append(order, id)
			}
			toStart[id] = res.Query
			queryProps[id] = c.Properties
			if res.Query.Upgrade {
				delete(paused, id)
			}
		case res.StopQuery != "":
			delete(toStart, res.StopQuery)
		case res.TerminateID == "ALL":
			for id := range toStart {
				if !e.cat.IsSourceTableQuery(id) {
					delete(toStart, id)
				}
			}
		case res.TerminateID != "":
			delete(toStart, res.TerminateID)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, id := range order {
		q, ok := toStart[id]
		if !ok {
			continue
		}
		r, err := e.startQuery(q, queryProps[id])
		if err != nil {
			e.log.Error("restarting query", "query", id, "err", err)
			continue
		}
		if paused[id] {
			r.Pause()
		}
	}
	e.replayed = true
	return nil
}

// matchQueries returns the ids a PAUSE/RESUME names among known ids.
func (e *Engine) matchQueries(id string, all bool, known []string) []string {
	if all {
		return append([]string(nil), known...)
	}
	return []string{id}
}

// props merges the server defaults with a request's properties.
func (e *Engine) props(req map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range e.cfg.Properties {
		out[k] = v
	}
	for k, v := range req {
		out[k] = v
	}
	return out
}

func prop(props map[string]string, names ...string) string {
	for _, n := range names {
		if v, ok := props[n]; ok {
			return v
		}
	}
	return ""
}

// startQuery runs a persistent query. Caller holds e.mu.
func (e *Engine) startQuery(q *plan.Query, props map[string]string) (*queries.Runner, error) {
	guarantee := prop(props, "ksql.streams.processing.guarantee", "processing.guarantee")
	reset := prop(props, "ksql.streams.auto.offset.reset", "auto.offset.reset")
	// max.poll.records bounds the runner's batch, its unit of commit.
	maxBatch, _ := strconv.Atoi(prop(props, "ksql.streams.max.poll.records", "max.poll.records"))
	clientOpts := e.cfg.ClientOptions
	if c := prop(props, "ksql.streams.producer.compression.type", "ksql.streams.compression.type", "compression.type"); c != "" {
		codec, err := compressionCodec(c)
		if err != nil {
			return nil, err
		}
		clientOpts = append(slices.Clip(clientOpts), kgo.ProducerBatchCompression(codec))
	}
	if err := e.ensureRepartitionTopics(q); err != nil {
		return nil, err
	}
	r, err := queries.Start(queries.Config{
		Brokers: e.cfg.Brokers, Query: q.Exec,
		GroupID:       "_confluent-ksql-" + e.cfg.ServiceID + "query_" + q.ID,
		ExactlyOnce:   strings.HasPrefix(guarantee, "exactly_once"),
		FromEarliest:  reset == "earliest" || q.FromEarliest,
		MaxBatch:      maxBatch,
		Logger:        e.log.With("query", q.ID),
		Metrics:       e.cfg.Metrics,
		ClientOptions: clientOpts,
		StateDir:      e.cfg.StateDir,
		StateMetrics:  e.cfg.StateMetrics,
		ServiceID:     e.cfg.ServiceID,
	})
	if err != nil {
		return nil, err
	}
	e.running[q.ID] = r
	return r, nil
}

// compressionCodec is the franz-go codec of a Kafka compression.type.
func compressionCodec(name string) (kgo.CompressionCodec, error) {
	switch strings.ToLower(name) {
	case "none":
		return kgo.NoCompression(), nil
	case "gzip":
		return kgo.GzipCompression(), nil
	case "snappy":
		return kgo.SnappyCompression(), nil
	case "lz4":
		return kgo.Lz4Compression(), nil
	case "zstd":
		return kgo.ZstdCompression(), nil
	}
	return kgo.CompressionCodec{}, fmt.Errorf("compression.type %q: want none, gzip, snappy, lz4 or zstd", name)
}

// statementError is a ksqlDB "statement_error" (400, 40001).
func statementError(text string, err error) error {
	return &rest.Error{Status: 400, Code: 40001, Message: err.Error(), StatementText: text}
}

// Execute implements rest.Backend: it runs the statements of a /ksql
// request in order and returns one entity per statement.
func (e *Engine) Execute(ctx context.Context, req *rest.Request) ([]any, error) {
	vars := parser.Variables{}
	for k, v := range req.Variables() {
		vars.Define(k, v)
	}
	parsed, err := parser.ParseScript(req.KSQL, vars)
	if err != nil {
		return nil, statementError(req.KSQL, err)
	}
	props := e.props(req.Properties())
	var out []any
	for _, p := range parsed {
		ent, err := e.executeOne(ctx, p.Statement, p.Text, props)
		if err != nil {
			var re *rest.Error
			if errors.As(err, &re) {
				return nil, err
			}
			return nil, statementError(p.Text, err)
		}
		if ent != nil {
			out = append(out, ent)
		}
	}
	return out, nil
}

func (e *Engine) executeOne(ctx context.Context, stmt ast.Statement, text string, props map[string]string) (any, error) {
	switch s := stmt.(type) {
	case *ast.Query, *ast.Print:
		return nil, &rest.Error{Status: 400, Code: 40002, StatementText: text,
			Message: "The following statement types should be issued to the websocket endpoint '/query':\n\t* PRINT\n\t* SELECT"}
	case *ast.Pause:
		return e.pauseResume(ctx, text, s.QueryID, s.All, true)
	case *ast.Resume:
		return e.pauseResume(ctx, text, s.QueryID, s.All, false)
	case *ast.DefineVariable, *ast.UndefineVariable:
		return nil, nil // applied by ParseScript
	case *ast.CreateSource:
		if err := e.checkSourceTopic(ctx, s); err != nil {
			return nil, err
		}
	}
	if ent, ok, err := e.connectorStatement(ctx, stmt, text); ok {
		return ent, err
	}
	if sh, ok := stmt.(*ast.Show); ok && sh.What == ast.ShowTopics {
		return e.topicsEntity(ctx, text, sh.All)
	}
	if _, ok := stmt.(*ast.DescribeFunction); ok {
		return e.listing(ctx, stmt, text, nil)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	res, err := plan.Execute(ctx, e.cat, stmt, props)
	if err != nil {
		return nil, err
	}
	switch res.Kind {
	case plan.Property:
		if _, ok := stmt.(*ast.SetProperty); ok {
			props[res.Name] = res.Value
		} else if _, ok := stmt.(*ast.UnsetProperty); ok {
			delete(props, res.Name)
		}
		return nil, nil
	case plan.Insert:
		if err := e.produce(ctx, res.Records); err != nil {
			return nil, err
		}
		return nil, nil
	case plan.Info:
		if res.TerminateID != "" {
			return e.terminate(ctx, text, res, props)
		}
		return e.listing(ctx, stmt, text, res)
	case plan.DDL:
		if res.Topic.Create && res.Topic.Name != "" {
			if err := e.ensureTopic(ctx, res.Topic, 0); err != nil {
				return nil, err
			}
		}
		if res.StopQuery != "" {
			e.stopQuery(ctx, res.StopQuery)
		}
		if d, ok := stmt.(*ast.DropSource); ok && d.DeleteTopic && res.Topic.Name != "" {
			if _, err := e.adm.DeleteTopics(ctx, res.Topic.Name); err != nil {
				e.log.Warn("DROP ... DELETE TOPIC", "topic", res.Topic.Name, "err", err)
			}
		}
		return e.logCommand(ctx, text, commandID(stmt, res), props, "", res.Message)
	case plan.PersistentQuery:
		q := res.Query
		if err := e.ensureQueryTopic(ctx, res); err != nil {
			e.cat.AbortQuery(q)
			return nil, err
		}
		ent, err := e.logCommand(ctx, text, commandID(stmt, res), props, q.ID, res.Message)
		if err != nil {
			e.cat.AbortQuery(q)
			return nil, err
		}
		q.SQL = text
		if q.Upgrade {
			e.stopForUpgrade(q.ID)
		}
		if _, err := e.startQuery(q, props); err != nil {
			return nil, err
		}
		return ent, nil
	}
	return nil, fmt.Errorf("unexpected result for %s", text)
}

// commandID names a logged statement as ksqlDB's CommandId does.
func commandID(stmt ast.Statement, res *plan.Result) string {
	switch s := stmt.(type) {
	case *ast.CreateSource:
		return commands.ID(s.Kind.String(), s.Name, "create")
	case *ast.CreateAsSelect:
		return commands.ID(s.Kind.String(), s.Name, "create")
	case *ast.DropSource:
		return commands.ID(s.Kind.String(), s.Name, "drop")
	case *ast.AlterSource:
		return commands.ID(s.Kind.String(), s.Name, "alter")
	case *ast.CreateType:
		return commands.ID("type", s.Name, "create")
	case *ast.DropType:
		return commands.ID("type", s.Name, "drop")
	case *ast.InsertInto:
		return commands.ID("stream", s.Target, "execute")
	}
	if res != nil && res.Query != nil {
		return commands.ID("query", res.Query.ID, "execute")
	}
	return commands.ID("statement", fmt.Sprintf("%T", stmt), "execute")
}

// logCommand appends a statement to the command topic and answers ksqlDB's
// currentStatus entity.
func (e *Engine) logCommand(ctx context.Context, text, id string, props map[string]string, queryID, message string) (any, error) {
	off, err := e.cmds.Append(ctx, id, commands.Command{Statement: text, Properties: props, QueryID: queryID})
	if err != nil {
		return nil, &rest.Error{Status: 500, Code: 50000, Message: "Could not write the statement to the command topic: " + err.Error()}
	}
	e.statuses[id] = rest.Status{Status: "SUCCESS", Message: message}
	st := map[string]any{"status": "SUCCESS", "message": message}
	if queryID != "" {
		st["queryId"] = queryID
	}
	return map[string]any{"@type": "currentStatus", "statementText": text, "commandId": id,
		"commandStatus": st, "commandSequenceNumber": off, "warnings": []any{}}, nil
}

// ensureQueryTopic creates the topic a persistent query needs: its sink,
// or for a source table's query (no sink) the table's topic when the
// statement asked for it (PARTITIONS given).
func (e *Engine) ensureQueryTopic(ctx context.Context, res *plan.Result) error {
	q := res.Query
	if q.SinkTopic.Name == "" {
		if res.Topic.Create && res.Topic.Name != "" {
			return e.ensureTopic(ctx, res.Topic, 0)
		}
		return nil
	}
	partitions := q.SinkTopic.Partitions
	if partitions == 0 {
		partitions = e.sourcePartitions(ctx, q.SourceTopics)
	}
	return e.ensureTopic(ctx, q.SinkTopic, partitions)
}

// stopQuery stops a running persistent query and deletes its internal
// topics and local state. Caller holds e.mu.
func (e *Engine) stopQuery(ctx context.Context, id string) {
	if r := e.running[id]; r != nil {
		r.Stop()
		delete(e.running, id)
	}
	e.cleanUpQuery(ctx, id)
}

// stopForUpgrade stops the running version of a query that CREATE OR
// REPLACE upgrades: its batch in flight finishes and its offsets are
// committed, its member leaves the group; its internal topics and state
// stay for the new version, which joins the same group. Caller holds e.mu.
func (e *Engine) stopForUpgrade(id string) {
	r := e.running[id]
	if r == nil {
		return
	}
	if err := r.Stop(); err != nil {
		e.log.Warn("stopping the replaced version of a query", "query", id, "err", err)
	}
	delete(e.running, id)
}

func (e *Engine) terminate(ctx context.Context, text string, res *plan.Result, props map[string]string) (any, error) {
	ids := []string{res.TerminateID}
	if res.TerminateID == "ALL" {
		ids = nil
		for id := range e.running {
			if !e.cat.IsSourceTableQuery(id) {
				ids = append(ids, id)
			}
		}
		sort.Strings(ids)
		for _, id := range ids {
			e.cat.RemoveQuery(id)
		}
	}
	for _, id := range ids {
		e.stopQuery(ctx, id)
	}
	return e.logCommand(ctx, text, commands.ID("terminate", res.TerminateID, "execute"), props, "", res.Message)
}

func (e *Engine) pauseResume(ctx context.Context, text, id string, all, pause bool) (any, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var ids []string
	if all {
		for qid := range e.running {
			ids = append(ids, qid)
		}
	} else {
		if e.running[id] == nil {
			return nil, fmt.Errorf("Unknown queryId: %s", id)
		}
		ids = []string{id}
	}
	for _, qid := range ids {
		if pause {
			e.running[qid].Pause()
		} else {
			e.running[qid].Resume()
		}
	}
	action, msg := "resume", "Query resumed."
	if pause {
		action, msg = "pause", "Query paused."
	}
	target := id
	if all {
		target = "ALL"
	}
	return e.logCommand(ctx, text, commands.ID(action, target, "execute"), nil, "", msg)
}

// checkSourceTopic refuses CREATE STREAM/TABLE over a missing topic unless
// PARTITIONS asks for it to be created, with ksqlDB's message.
func (e *Engine) checkSourceTopic(ctx context.Context, s *ast.CreateSource) error {
	if s.Props.Get("PARTITIONS") != nil {
		return nil
	}
	lit, ok := s.Props.Get("KAFKA_TOPIC").(*ast.StringLit)
	if !ok {
		return nil // the planner reports the missing property
	}
	topics, err := e.adm.ListTopics(ctx, lit.Value)
	if err != nil {
		return fmt.Errorf("checking topic %s: %w", lit.Value, err)
	}
	if !topics.Has(lit.Value) {
		return fmt.Errorf("Topic '%s' does not exist. If you want to create a new topic for the %s please re-run the statement providing the required 'PARTITIONS' configuration in the WITH clause (and optionally 'REPLICAS'). For example: CREATE %s %s (...) WITH (KAFKA_TOPIC='%s', PARTITIONS=2, REPLICAS=1, ...);",
			lit.Value, strings.ToLower(s.Kind.String()), s.Kind, s.Name, lit.Value)
	}
	return nil
}

// ensureTopic creates a topic when missing.
func (e *Engine) ensureTopic(ctx context.Context, t plan.TopicSpec, partitions int) error {
	if t.Partitions > 0 {
		partitions = t.Partitions
	}
	if partitions <= 0 {
		partitions = 1
	}
	replicas := int16(-1)
	if t.Replicas > 0 {
		replicas = int16(t.Replicas)
	}
	cfg := map[string]*string{}
	for k, v := range t.Config {
		cfg[k] = &v
	}
	resp, err := e.adm.CreateTopic(ctx, int32(partitions), replicas, cfg, t.Name)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !strings.Contains(err.Error(), "TOPIC_ALREADY_EXISTS") {
		return fmt.Errorf("creating topic %s: %w", t.Name, err)
	}
	return nil
}

// sourcePartitions is the largest partition count of the source topics, the
// default for a CSAS sink as in ksqlDB.
func (e *Engine) sourcePartitions(ctx context.Context, topics []string) int {
	td, err := e.adm.ListTopics(ctx, topics...)
	if err != nil {
		return 1
	}
	n := 1
	for _, t := range td {
		if len(t.Partitions) > n {
			n = len(t.Partitions)
		}
	}
	return n
}

func (e *Engine) produce(ctx context.Context, recs []exec.Record) error {
	krs := make([]*kgo.Record, len(recs))
	for i := range recs {
		krs[i] = toKgo(&recs[i])
	}
	if err := e.cl.ProduceSync(ctx, krs...).FirstErr(); err != nil {
		return fmt.Errorf("Failed to insert values into: %w", err)
	}
	return nil
}

// Statuses implements rest.Backend.
func (e *Engine) Statuses() map[string]rest.Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]rest.Status, len(e.statuses))
	for k, v := range e.statuses {
		out[k] = v
	}
	return out
}

// ServiceID implements rest.Backend.
func (e *Engine) ServiceID() string { return e.cfg.ServiceID }

// ClusterID implements rest.Backend.
func (e *Engine) ClusterID() string {
	m, err := e.adm.BrokerMetadata(context.Background())
	if err != nil {
		return ""
	}
	return m.Cluster
}

// Healthy implements rest.Backend.
func (e *Engine) Healthy(ctx context.Context) (bool, bool, bool) {
	_, err := e.adm.BrokerMetadata(ctx)
	e.mu.Lock()
	defer e.mu.Unlock()
	return true, err == nil, e.replayed
}

// ValidProperty implements rest.Backend: ksql.* properties and the Kafka
// Streams, consumer and producer settings a query may carry.
func (e *Engine) ValidProperty(name string) bool {
	if strings.HasPrefix(name, "ksql.") {
		return true
	}
	switch name {
	case "auto.offset.reset", "processing.guarantee", "commit.interval.ms", "cache.max.bytes.buffering",
		"num.stream.threads", "buffered.records.per.partition", "max.poll.records", "fetch.min.bytes",
		"session.timeout.ms", "isolation.level", "linger.ms", "batch.size", "compression.type", "acks":
		return true
	}
	return false
}

// QueryState reports a persistent query's state, for tests and listings.
func (e *Engine) QueryState(id string) (queries.State, error) {
	e.mu.Lock()
	r := e.running[id]
	e.mu.Unlock()
	if r == nil {
		return queries.Stopped, nil
	}
	return r.State()
}

func toKgo(r *exec.Record) *kgo.Record {
	out := &kgo.Record{Topic: r.Topic, Key: r.Key, Value: r.Value}
	if r.Timestamp > 0 {
		out.Timestamp = timeFromMillis(r.Timestamp)
	}
	for _, h := range r.Headers {
		out.Headers = append(out.Headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
	}
	return out
}
