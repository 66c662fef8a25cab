// Package rules runs Confluent data-contract rules (the ruleSet and metadata
// stored with a schema in the registry) in Sluice's serializers and
// deserializers: CONDITION and TRANSFORM rules written in CEL, over the whole
// message (type CEL) or over each primitive field (type CEL_FIELD), with the
// actions NONE, ERROR and DLQ on success and on failure.
//
// The rule JSON is Confluent's:
//
//	{"name":"ageNonNegative","kind":"CONDITION","type":"CEL","mode":"WRITE",
//	 "expr":"message.age >= 0","onFailure":"DLQ","params":{"dlq.topic":"users-dlq"}}
//
// Rules run in the order listed when writing and in reverse order when
// reading, as Confluent's clients do. Evaluation is sandboxed: CEL has no
// I/O, every program runs with a cost limit and a timeout.
package rules

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Kinds, modes, types and actions as Confluent names them.
const (
	KindCondition = "CONDITION"
	KindTransform = "TRANSFORM"

	ModeWrite     = "WRITE"
	ModeRead      = "READ"
	ModeWriteRead = "WRITEREAD"
	ModeUpgrade   = "UPGRADE"
	ModeDowngrade = "DOWNGRADE"
	ModeUpDown    = "UPDOWN"

	TypeCEL      = "CEL"
	TypeCELField = "CEL_FIELD"

	ActionNone  = "NONE"
	ActionError = "ERROR"
	ActionDLQ   = "DLQ"

	// ParamDLQTopic names the dead-letter topic of a rule with a DLQ action.
	ParamDLQTopic = "dlq.topic"
)

// Rule is one data-contract rule.
type Rule struct {
	Name      string            `json:"name"`
	Doc       string            `json:"doc,omitempty"`
	Kind      string            `json:"kind"`
	Mode      string            `json:"mode"`
	Type      string            `json:"type"`
	Tags      []string          `json:"tags,omitempty"`
	Params    map[string]string `json:"params,omitempty"`
	Expr      string            `json:"expr,omitempty"`
	OnSuccess string            `json:"onSuccess,omitempty"`
	OnFailure string            `json:"onFailure,omitempty"`
	Disabled  bool              `json:"disabled,omitempty"`
}

// RuleSet groups the rules of a schema. Only domain rules run in serde;
// migration rules (JSONATA between major versions) and encoding rules are
// parsed but not executed.
type RuleSet struct {
	MigrationRules []Rule `json:"migrationRules,omitempty"`
	DomainRules    []Rule `json:"domainRules,omitempty"`
	EncodingRules  []Rule `json:"encodingRules,omitempty"`
}

// Metadata is a schema's data-contract metadata. Tags maps a field path
// pattern ("Order.ssn", "**.ssn", "*.email") to the tags of the fields it
// matches; CEL_FIELD rules with tags apply to those fields only.
type Metadata struct {
	Tags       map[string][]string `json:"tags,omitempty"`
	Properties map[string]string   `json:"properties,omitempty"`
	Sensitive  []string            `json:"sensitive,omitempty"`
}

// Parse reads a schema's ruleSet and metadata JSON (either may be empty).
func Parse(ruleSet, metadata json.RawMessage) (*RuleSet, *Metadata, error) {
	var rs *RuleSet
	if len(ruleSet) > 0 && string(ruleSet) != "null" {
		rs = new(RuleSet)
		if err := json.Unmarshal(ruleSet, rs); err != nil {
			return nil, nil, fmt.Errorf("ruleSet: %w", err)
		}
		if err := rs.Validate(); err != nil {
			return nil, nil, err
		}
	}
	var md *Metadata
	if len(metadata) > 0 && string(metadata) != "null" {
		md = new(Metadata)
		if err := json.Unmarshal(metadata, md); err != nil {
			return nil, nil, fmt.Errorf("metadata: %w", err)
		}
	}
	return rs, md, nil
}

// Validate checks the fields every rule needs, as the registry's
// validation does: a unique name, a kind, a type, a mode that fits the
// group (domain rules WRITE, READ or WRITEREAD; migration rules UPGRADE,
// DOWNGRADE or UPDOWN) and known actions.
func (rs *RuleSet) Validate() error {
	names := map[string]bool{}
	groups := []struct {
		name  string
		rules []Rule
		modes []string
	}{
		{"migrationRules", rs.MigrationRules, []string{ModeUpgrade, ModeDowngrade, ModeUpDown}},
		{"domainRules", rs.DomainRules, []string{ModeWrite, ModeRead, ModeWriteRead}},
		{"encodingRules", rs.EncodingRules, []string{ModeWrite, ModeRead, ModeWriteRead}},
	}
	for _, g := range groups {
		for i, r := range g.rules {
			if r.Name == "" {
				return fmt.Errorf("ruleSet: %s[%d] has no name", g.name, i)
			}
			if names[r.Name] {
				return fmt.Errorf("ruleSet: two rules are named %q", r.Name)
			}
			names[r.Name] = true
			switch r.Kind {
			case KindCondition, KindTransform:
			default:
				return fmt.Errorf("ruleSet: rule %q: kind %q is neither CONDITION nor TRANSFORM", r.Name, r.Kind)
			}
			if !slices.Contains(g.modes, r.Mode) {
				return fmt.Errorf("ruleSet: rule %q: mode %q is not one of %s for %s", r.Name, r.Mode, strings.Join(g.modes, ", "), g.name)
			}
			if r.Type == "" {
				return fmt.Errorf("ruleSet: rule %q has no type", r.Name)
			}
			for _, a := range []string{r.OnSuccess, r.OnFailure} {
				for _, part := range strings.Split(a, ",") {
					switch strings.TrimSpace(part) {
					case "", ActionNone, ActionError, ActionDLQ:
					default:
						return fmt.Errorf("ruleSet: rule %q: action %q is not NONE, ERROR or DLQ", r.Name, part)
					}
				}
			}
		}
	}
	return nil
}

// appliesTo tells whether a domain rule runs when writing (write=true) or
// reading.
func (r *Rule) appliesTo(write bool) bool {
	if r.Disabled {
		return false
	}
	switch r.Mode {
	case ModeWriteRead:
		return true
	case ModeWrite:
		return write
	case ModeRead:
		return !write
	}
	return false // UPGRADE, DOWNGRADE, UPDOWN are migrations
}

// action picks the action for one direction: "DLQ,ERROR" on a WRITEREAD
// rule means DLQ when writing and ERROR when reading.
func (r *Rule) action(spec, dflt string, write bool) string {
	parts := strings.Split(spec, ",")
	a := parts[0]
	if len(parts) == 2 && (r.Mode == ModeWriteRead || r.Mode == ModeUpDown) && !write {
		a = parts[1]
	}
	a = strings.TrimSpace(a)
	if a == "" {
		return dflt
	}
	return a
}

// ErrDeadLettered is wrapped by the error of a rule whose DLQ action sent the
// record to its dead-letter topic: the caller must not produce the original.
var ErrDeadLettered = errors.New("record sent to the dead-letter topic")

// Error is a rule that failed (or whose action is ERROR or DLQ). It names
// the rule, the mode, the subject and what went wrong.
type Error struct {
	Rule    string
	Kind    string
	Type    string
	Mode    string // WRITE or READ
	Subject string
	Expr    string
	// DLQTopic is set when the record was sent to a dead-letter topic.
	DLQTopic string
	Err      error
}

func (e *Error) Error() string {
	s := fmt.Sprintf("data contract rule %q (%s %s, %s, subject %q) failed", e.Rule, e.Kind, e.Type, e.Mode, e.Subject)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	if e.DLQTopic != "" {
		s += fmt.Sprintf("; record sent to dead-letter topic %q", e.DLQTopic)
	}
	return s
}

func (e *Error) Unwrap() []error {
	errs := []error{}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	if e.DLQTopic != "" {
		errs = append(errs, ErrDeadLettered)
	}
	return errs
}
