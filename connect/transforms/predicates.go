package transforms

import (
	"regexp"
	"sync/atomic"

	"github.com/sluicedata/sluice/connect"
)

// TopicNameMatches is true for records whose topic matches a regex (the
// whole name, as Java's Matcher.matches).
type TopicNameMatches struct {
	re *regexp.Regexp
	// last is the last topic matched and its answer: a sink's records come
	// in runs of one topic, and the regex cost more than the rest of a
	// dropped record.
	last atomic.Pointer[topicMatch]
}

type topicMatch struct {
	topic string
	match bool
}

var topicNameMatchesFields = []connect.FieldSpec{
	{Name: "pattern", Type: connect.TypeString, Required: true, Importance: "MEDIUM",
		Doc:      "A Java regular expression for matching against the name of a record's topic.",
		Validate: func(v string) error { _, err := compileJavaRegex(v); return err }},
}

// HasHeaderKey is true for records with at least one header of a name.
type HasHeaderKey struct{ name string }

var hasHeaderKeyFields = []connect.FieldSpec{
	{Name: "name", Type: connect.TypeString, Required: true, Importance: "MEDIUM", Doc: "The header name."},
}

// RecordIsTombstone is true for records with a null value.
type RecordIsTombstone struct{}

func init() {
	registerPredicate("TopicNameMatches", "A predicate which is true for records with a topic name that matches the configured regular expression.",
		topicNameMatchesFields, func() connect.Predicate { return &TopicNameMatches{} })
	registerPredicate("HasHeaderKey", "A predicate which is true for records with at least one header with the configured name.",
		hasHeaderKeyFields, func() connect.Predicate { return &HasHeaderKey{} })
	registerPredicate("RecordIsTombstone", "A predicate which is true for records which are tombstones (i.e. have null value).",
		nil, func() connect.Predicate { return RecordIsTombstone{} })
}

// Configure compiles pattern.
func (p *TopicNameMatches) Configure(cfg connect.Config) error {
	if err := validate(&connect.Spec{Fields: topicNameMatchesFields}, cfg); err != nil {
		return err
	}
	var err error
	p.re, err = compileJavaRegex(cfg["pattern"])
	return err
}

// Test matches the topic.
func (p *TopicNameMatches) Test(r *connect.Record) bool { return p.TestTopic(r.Topic) }

// TestTopic matches topic: the predicate reads nothing else of a record.
func (p *TopicNameMatches) TestTopic(topic string) bool {
	if m := p.last.Load(); m != nil && m.topic == topic {
		return m.match
	}
	match := p.re.MatchString(topic)
	p.last.Store(&topicMatch{topic, match})
	return match
}

// Configure reads name.
func (p *HasHeaderKey) Configure(cfg connect.Config) error {
	if err := validate(&connect.Spec{Fields: hasHeaderKeyFields}, cfg); err != nil {
		return err
	}
	p.name = cfg["name"]
	return nil
}

// Test looks for the header.
func (p *HasHeaderKey) Test(r *connect.Record) bool {
	_, ok := r.Header(p.name)
	return ok
}

// Configure accepts no keys.
func (RecordIsTombstone) Configure(connect.Config) error { return nil }

// Test is true for a null value.
func (RecordIsTombstone) Test(r *connect.Record) bool { return r.Value == nil }
