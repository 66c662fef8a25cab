package runtime

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/sluicedata/sluice/connect"
	connectconv "github.com/sluicedata/sluice/connect/converters"
	"github.com/sluicedata/sluice/connect/internal/values"
	"github.com/twmb/franz-go/pkg/kgo"
)

// step is one configured transform of a chain.
type step struct {
	alias     string
	class     string
	t         connect.Transform
	predicate connect.Predicate // nil: always applies
	negate    bool
}

// chain is a connector's transforms, applied in order.
type chain []step

// buildChain configures the transforms and predicates named by cfg
// (transforms=a,b; transforms.a.type; transforms.a.predicate; negate;
// predicates=p; predicates.p.type).
func buildChain(cfg connect.Config) (chain, error) {
	none := &connect.Spec{}
	preds := map[string]connect.Predicate{}
	for _, alias := range cfg.List(none, "predicates") {
		prefix := "predicates." + alias + "."
		class := strings.TrimSpace(cfg[prefix+"type"])
		p, ok := connect.Lookup(class)
		if !ok || p.NewPredicate == nil {
			return nil, fmt.Errorf("predicate %s: class %q is not a known predicate", alias, class)
		}
		pr := p.NewPredicate()
		sub := subConfig(cfg, prefix)
		delete(sub, "type")
		if err := pr.Configure(sub); err != nil {
			return nil, fmt.Errorf("predicate %s (%s): %w", alias, class, err)
		}
		preds[alias] = pr
	}
	var ch chain
	for _, alias := range cfg.List(none, "transforms") {
		prefix := "transforms." + alias + "."
		class := strings.TrimSpace(cfg[prefix+"type"])
		p, ok := connect.Lookup(class)
		if !ok || p.NewTransform == nil {
			return nil, fmt.Errorf("transform %s: class %q is not a known transformation", alias, class)
		}
		sub := subConfig(cfg, prefix)
		st := step{alias: alias, class: class, t: p.NewTransform(), negate: strings.EqualFold(sub["negate"], "true")}
		if name := strings.TrimSpace(sub["predicate"]); name != "" {
			pr, ok := preds[name]
			if !ok {
				return nil, fmt.Errorf("transform %s: predicate %q is not listed in predicates", alias, name)
			}
			st.predicate = pr
		}
		delete(sub, "type")
		delete(sub, "predicate")
		delete(sub, "negate")
		if err := st.t.Configure(sub); err != nil {
			return nil, fmt.Errorf("transform %s (%s): %w", alias, class, err)
		}
		ch = append(ch, st)
	}
	return ch, nil
}

// apply runs r through the chain. A nil record means a transform dropped it.
// On error, failed names the step's class (for __connect.errors.class.name).
//
// With owned, r and its key and value maps belong to the chain alone, and
// transforms that can (connect.OwnedTransform) change them in place, until
// a step returns another record, which may share its maps. A record changed
// in place cannot be run through the chain again, so an error after such a
// change is never retriable.
func (ch chain) apply(r *connect.Record, owned bool) (out *connect.Record, failed string, err error) {
	changed := false
	for _, st := range ch {
		if st.predicate != nil {
			var match bool
			if err := safe(func() error { match = st.predicate.Test(r); return nil }); err != nil {
				return nil, st.class, fmt.Errorf("predicate of transform %s: %w", st.alias, err)
			}
			if match == st.negate {
				continue
			}
		}
		var next *connect.Record
		ot, inPlace := st.t.(connect.OwnedTransform)
		inPlace = inPlace && owned
		if err := safe(func() error {
			var e error
			if inPlace {
				next, e = ot.ApplyOwned(r)
			} else {
				next, e = st.t.Apply(r)
			}
			return e
		}); err != nil {
			err = fmt.Errorf("transform %s: %w", st.alias, err)
			if changed || inPlace {
				err = notRetriable{err}
			}
			return nil, st.class, err
		}
		if next == nil {
			return nil, "", nil
		}
		changed = changed || inPlace
		owned = owned && inPlace && next == r
		r = next
	}
	return r, "", nil
}

// dropsTopic reports whether the chain's first step drops every record of
// topic whatever else the record holds: a Filter (connect.DropAll) without a
// predicate, or with a topic-only one that selects topic. A panicking
// predicate answers false; apply then reports the panic.
func (ch chain) dropsTopic(topic string) bool {
	if len(ch) == 0 {
		return false
	}
	st := ch[0]
	if _, ok := st.t.(connect.DropAll); !ok {
		return false
	}
	if st.predicate == nil {
		return true
	}
	tp, ok := st.predicate.(connect.TopicPredicate)
	if !ok {
		return false
	}
	var match bool
	if err := safe(func() error { match = tp.TestTopic(topic); return nil }); err != nil {
		return false
	}
	return match != st.negate
}

// notRetriable hides a connect.Retriable inside err from withRetry.
type notRetriable struct{ err error }

func (e notRetriable) Error() string { return e.err.Error() }

// converters are a task's key, value and header converters.
type converters struct {
	key, value           connect.Converter
	keyClass, valueClass string
	header               connect.Converter // nil: simpleHeaders
	headerClass          string
}

func newConverter(worker, cfg connect.Config, side string) (connect.Converter, string, error) {
	class := strings.TrimSpace(cfg[side])
	if class == "" {
		class = strings.TrimSpace(worker[side])
	}
	if class == "" {
		return nil, "", nil
	}
	p, ok := connect.Lookup(class)
	if !ok || p.NewConverter == nil {
		return nil, class, fmt.Errorf("%s: class %q is not a known converter", side, class)
	}
	c := p.NewConverter()
	if err := c.Configure(converterConfig(worker, cfg, side), side == "key.converter"); err != nil {
		return nil, class, fmt.Errorf("%s %s: %w", side, class, err)
	}
	return c, class, nil
}

func buildConverters(worker, cfg connect.Config) (*converters, error) {
	var cs converters
	var err error
	if cs.key, cs.keyClass, err = newConverter(worker, cfg, "key.converter"); err != nil {
		return nil, err
	}
	if cs.key == nil {
		return nil, fmt.Errorf("key.converter: not set for the connector nor the worker")
	}
	if cs.value, cs.valueClass, err = newConverter(worker, cfg, "value.converter"); err != nil {
		return nil, err
	}
	if cs.value == nil {
		return nil, fmt.Errorf("value.converter: not set for the connector nor the worker")
	}
	if cs.header, cs.headerClass, err = newConverter(worker, cfg, "header.converter"); err != nil {
		return nil, err
	}
	if cs.header == nil {
		cs.headerClass = "SimpleHeaderConverter"
	}
	return &cs, nil
}

// convertible reports, without building any value, whether kr's key, value
// and headers would convert without error. False means "not known": the
// caller converts them to find out.
func (cs *converters) convertible(kr *kgo.Record) bool {
	if !cs.keyAndHeadersConvertible(kr) {
		return false
	}
	vc, ok := cs.value.(connect.CheckingConverter)
	return ok && vc.Check(kr.Topic, kr.Value)
}

// keyAndHeadersConvertible is convertible for kr's key and headers alone.
func (cs *converters) keyAndHeadersConvertible(kr *kgo.Record) bool {
	if cs.header != nil && len(kr.Headers) > 0 {
		return false // without a header converter headers cannot fail
	}
	kc, ok := cs.key.(connect.CheckingConverter)
	return ok && kc.Check(kr.Topic, kr.Key)
}

// headerToBytes converts a header value. Without a header.converter it
// works as Kafka Connect's SimpleHeaderConverter does for the common cases:
// strings and bytes as they are, null as null, anything else as JSON.
// hs, when not nil, holds the text of integers.
func (cs *converters) headerToBytes(topic string, h connect.Header, hs *headerSlab) ([]byte, error) {
	if cs.header != nil {
		return cs.header.FromConnect(topic, h.Schema, h.Value)
	}
	switch v := h.Value.(type) {
	case nil:
		return nil, nil
	case []byte:
		return v, nil
	case string:
		return []byte(v), nil
	case int64:
		// The JSON text of an integer, without encoding/json's reflection:
		// datagen sets three integer headers on every record.
		if hs != nil {
			return hs.appendInt(v), nil
		}
		return strconv.AppendInt(nil, v, 10), nil
	case int32:
		if hs != nil {
			return hs.appendInt(int64(v)), nil
		}
		return strconv.AppendInt(nil, int64(v), 10), nil
	case bool:
		return strconv.AppendBool(nil, v), nil
	case *connect.StructValue:
		// Kafka's SimpleHeaderConverter writes a struct as
		// Values.convertToString does ({"id":1}); Debezium's
		// __debezium.newkey/oldkey headers are such structs.
		s, err := values.ToString(h.Schema, v)
		if err != nil {
			return nil, fmt.Errorf("header %q: %w", h.Key, err)
		}
		return []byte(s), nil
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("header %q: %w", h.Key, err)
		}
		return b, nil
	}
}

// headerFromBytes is the inverse for sinks: without a header.converter a
// header arrives as a string (null stays null).
func (cs *converters) headerFromBytes(topic, key string, b []byte) (connect.Header, error) {
	if cs.header != nil {
		s, v, err := cs.header.ToConnect(topic, b)
		if err != nil {
			return connect.Header{}, fmt.Errorf("header %q: %w", key, err)
		}
		return connect.Header{Key: key, Value: v, Schema: s}, nil
	}
	if b == nil {
		return connect.Header{Key: key}, nil
	}
	return connect.Header{Key: key, Value: string(b), Schema: connectconv.OptionalString}, nil
}
