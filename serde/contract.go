package serde

import (
	"context"
	"fmt"
	"sync"

	"github.com/sluicedata/sluice/serde/rules"
	"github.com/sluicedata/sluice/serde/srclient"
	"github.com/sluicedata/sluice/sql/types"
)

// contract runs the data-contract rules (ruleSet and metadata) of the schema
// a record is written or read with. The rules come from the schema id the
// record carries, so a serializer applies those of the version it
// registered or found (a registration without rules inherits the subject's
// latest rules in the registry), and a deserializer those of the writer's
// schema.
type contract struct {
	c      *srclient.Client
	exec   *rules.Executor
	parsed sync.Map // schema id -> *parsedContract
}

type parsedContract struct {
	rs *rules.RuleSet
	md *rules.Metadata
}

func newContract(c *srclient.Client, exec *rules.Executor) (*contract, error) {
	if exec == nil {
		var err error
		if exec, err = rules.NewExecutor(); err != nil {
			return nil, err
		}
	}
	return &contract{c: c, exec: exec}, nil
}

func (k *contract) of(ctx context.Context, id int) (*parsedContract, error) {
	if p, ok := k.parsed.Load(id); ok {
		return p.(*parsedContract), nil
	}
	s, err := k.c.SchemaByID(ctx, id)
	if err != nil {
		return nil, err
	}
	rs, md, err := rules.Parse(s.RuleSet, s.Metadata)
	if err != nil {
		return nil, fmt.Errorf("schema id %d: %w", id, err)
	}
	p := &parsedContract{rs: rs, md: md}
	k.parsed.Store(id, p)
	return p, nil
}

// record describes the record the rules run on.
type record struct {
	id      int
	subject string
	topic   string
	key     bool
	root    string // top-level record or message name
	t       types.Type
}

// write runs the WRITE rules on v (a value of r.t) and returns it as
// transformed.
func (k *contract) write(ctx context.Context, r record, v types.Value) (types.Value, error) {
	p, err := k.of(ctx, r.id)
	if err != nil || !rules.HasRules(p.rs, true) {
		return v, err
	}
	tg := k.target(r, p)
	tg.DeadLetter = func() []byte { return appendJSON(nil, r.t, v) }
	return k.exec.Write(ctx, tg, v)
}

// read runs the READ rules on a decoded v; original is the record as
// received, for a DLQ action.
func (k *contract) read(ctx context.Context, r record, v types.Value, original []byte) (types.Value, error) {
	p, err := k.of(ctx, r.id)
	if err != nil || !rules.HasRules(p.rs, false) {
		return v, err
	}
	tg := k.target(r, p)
	tg.DeadLetter = func() []byte { return original }
	return k.exec.Read(ctx, tg, v)
}

func (k *contract) target(r record, p *parsedContract) rules.Target {
	return rules.Target{Subject: r.subject, Topic: r.topic, Key: r.key, SchemaID: r.id, RootName: r.root, Type: r.t,
		RuleSet: p.rs, Metadata: p.md}
}
