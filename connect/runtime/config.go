package runtime

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sluicedata/sluice/connect"
)

// Keys every connector config may carry, as Kafka Connect's ConnectorConfig,
// SourceConnectorConfig and SinkConnectorConfig declare them. They are
// validated before the plugin's own fields and listed first by
// /connector-plugins/{p}/config/validate.
var (
	commonFields = []connect.FieldSpec{
		{Name: "name", Type: connect.TypeString, Required: true, Group: "Common", Importance: "HIGH", Doc: "Globally unique name to use for this connector."},
		{Name: "connector.class", Type: connect.TypeString, Required: true, Group: "Common", Importance: "HIGH", Doc: "Name or alias of the class for this connector."},
		{Name: "tasks.max", Type: connect.TypeInt, Default: "1", Group: "Common", Importance: "HIGH", Doc: "Maximum number of tasks to use for this connector.",
			Validate: func(v string) error {
				if n, _ := strconv.Atoi(strings.TrimSpace(v)); n < 1 {
					return fmt.Errorf("Value must be at least 1")
				}
				return nil
			}},
		{Name: "key.converter", Type: connect.TypeClass, Group: "Common", Importance: "LOW", Doc: "Converter class for record keys; overrides the worker's default."},
		{Name: "value.converter", Type: connect.TypeClass, Group: "Common", Importance: "LOW", Doc: "Converter class for record values; overrides the worker's default."},
		{Name: "header.converter", Type: connect.TypeClass, Group: "Common", Importance: "LOW", Doc: "Converter class for header values; default: the built-in simple header converter."},
		{Name: "transforms", Type: connect.TypeList, Group: "Transforms", Importance: "LOW", Doc: "Aliases for the transformations to apply to records, in order."},
		{Name: "predicates", Type: connect.TypeList, Group: "Predicates", Importance: "LOW", Doc: "Aliases for the predicates used by transformations."},
		{Name: "errors.retry.timeout", Type: connect.TypeLong, Default: "0", Group: "Error Handling", Importance: "MEDIUM", Doc: "Maximum duration in milliseconds that a failed operation will be reattempted. 0: no retries; -1: infinite retries."},
		{Name: "errors.retry.delay.max.ms", Type: connect.TypeLong, Default: "60000", Group: "Error Handling", Importance: "MEDIUM", Doc: "Maximum duration in milliseconds between consecutive retry attempts (exponential backoff with jitter)."},
		{Name: "errors.tolerance", Type: connect.TypeString, Default: "none", Recommended: []string{"none", "all"}, Group: "Error Handling", Importance: "MEDIUM", Doc: "none: an error fails the task; all: problematic records are skipped (and dead-lettered by sinks with a DLQ)."},
		{Name: "errors.log.enable", Type: connect.TypeBoolean, Default: "false", Group: "Error Handling", Importance: "MEDIUM", Doc: "Log each error and the failed operation."},
		{Name: "errors.log.include.messages", Type: connect.TypeBoolean, Default: "false", Group: "Error Handling", Importance: "MEDIUM", Doc: "Include the record's topic, partition, offset, key and value in error logs."},
	}
	sinkFields = []connect.FieldSpec{
		{Name: "topics", Type: connect.TypeList, Group: "Common", Importance: "HIGH", Doc: "Topics to consume. Exactly one of topics and topics.regex must be set."},
		{Name: "topics.regex", Type: connect.TypeString, Group: "Common", Importance: "HIGH", Doc: "Regular expression of topics to consume. Exactly one of topics and topics.regex must be set.",
			Validate: func(v string) error { _, err := regexp.Compile(v); return err }},
		{Name: "errors.deadletterqueue.topic.name", Type: connect.TypeString, Group: "Error Handling", Importance: "MEDIUM", Doc: "Topic receiving the records that failed (errors.tolerance=all); empty: no dead-letter queue."},
		{Name: "errors.deadletterqueue.topic.replication.factor", Type: connect.TypeInt, Default: "3", Group: "Error Handling", Importance: "MEDIUM", Doc: "Replication factor of the dead-letter topic when it is created (capped at the brokers available)."},
		{Name: "errors.deadletterqueue.context.headers.enable", Type: connect.TypeBoolean, Default: "false", Group: "Error Handling", Importance: "MEDIUM", Doc: "Add __connect.errors.* headers describing the failure to dead-lettered records."},
	}
	sourceFields = []connect.FieldSpec{
		{Name: "exactly.once.support", Type: connect.TypeString, Default: "requested", Recommended: []string{"requested", "required"}, Group: "Exactly Once Support", Importance: "MEDIUM", Doc: "required: fail unless records and offsets can be written in one transaction; requested: exactly-once when the worker enables it."},
		{Name: "transaction.boundary", Type: connect.TypeString, Default: "poll", Recommended: []string{"poll"}, Group: "Exactly Once Support", Importance: "MEDIUM", Doc: "Transaction boundaries for exactly-once delivery: poll (one transaction per batch returned by poll). interval and connector are not supported."},
	}
)

// connectorConfig is a connector config with the runtime's keys parsed.
type connectorConfig struct {
	raw      connect.Config
	name     string
	class    string
	plugin   *connect.Plugin
	tasksMax int

	tolerateAll  bool
	retryTimeout time.Duration // <0: forever
	retryMax     time.Duration
	logErrors    bool
	logMessages  bool

	// sinks
	topics      []string
	topicsRegex string
	dlqTopic    string
	dlqRF       int
	dlqHeaders  bool
	exactlyOnce string // sources: requested, required
}

func parseDuration(ms string) time.Duration {
	n, _ := strconv.ParseInt(strings.TrimSpace(ms), 10, 64)
	if n < 0 {
		return -1
	}
	return time.Duration(n) * time.Millisecond
}

func fieldsFor(kind connect.Kind) []connect.FieldSpec {
	out := append([]connect.FieldSpec(nil), commonFields...)
	switch kind {
	case connect.SinkKind:
		out = append(out, sinkFields...)
	case connect.SourceKind:
		out = append(out, sourceFields...)
	}
	return out
}

// parseConfig reads the runtime's keys of a config already validated.
func parseConfig(cfg connect.Config, p *connect.Plugin) *connectorConfig {
	spec := &connect.Spec{Fields: fieldsFor(p.Spec.Kind)}
	cc := &connectorConfig{
		raw: cfg, name: cfg["name"], class: cfg["connector.class"], plugin: p,
		tasksMax:     int(cfg.Int(spec, "tasks.max")),
		tolerateAll:  strings.EqualFold(cfg.String(spec, "errors.tolerance"), "all"),
		retryTimeout: parseDuration(cfg.String(spec, "errors.retry.timeout")),
		retryMax:     parseDuration(cfg.String(spec, "errors.retry.delay.max.ms")),
		logErrors:    cfg.Bool(spec, "errors.log.enable"),
		logMessages:  cfg.Bool(spec, "errors.log.include.messages"),
		topics:       cfg.List(spec, "topics"),
		topicsRegex:  strings.TrimSpace(cfg.String(spec, "topics.regex")),
		dlqTopic:     strings.TrimSpace(cfg.String(spec, "errors.deadletterqueue.topic.name")),
		dlqRF:        int(cfg.Int(spec, "errors.deadletterqueue.topic.replication.factor")),
		dlqHeaders:   cfg.Bool(spec, "errors.deadletterqueue.context.headers.enable"),
		exactlyOnce:  strings.ToLower(cfg.String(spec, "exactly.once.support")),
	}
	if cc.tasksMax < 1 {
		cc.tasksMax = 1
	}
	return cc
}

// subConfig returns the keys under prefix (without it).
func subConfig(cfg connect.Config, prefix string) connect.Config {
	out := connect.Config{}
	for k, v := range cfg {
		if strings.HasPrefix(k, prefix) {
			out[strings.TrimPrefix(k, prefix)] = v
		}
	}
	return out
}

// ConfigValue is one key's entry in a validation answer.
type ConfigValue struct {
	Name              string   `json:"name"`
	Value             *string  `json:"value"`
	RecommendedValues []string `json:"recommended_values"`
	Errors            []string `json:"errors"`
	Visible           bool     `json:"visible"`
}

// ConfigKeyInfo is a config key's definition, as Kafka Connect's
// ConfigKeyInfo serializes it.
type ConfigKeyInfo struct {
	Name          string   `json:"name"`
	Type          string   `json:"type"`
	Required      bool     `json:"required"`
	DefaultValue  *string  `json:"default_value"`
	Importance    string   `json:"importance"`
	Documentation string   `json:"documentation"`
	Group         *string  `json:"group"`
	OrderInGroup  int      `json:"order_in_group"`
	Width         string   `json:"width"`
	DisplayName   string   `json:"display_name"`
	Dependents    []string `json:"dependents"`
	Order         int      `json:"order"`
}

// ConfigInfo pairs a key's definition and its validated value.
type ConfigInfo struct {
	Definition ConfigKeyInfo `json:"definition"`
	Value      ConfigValue   `json:"value"`
}

// Validation is the body of PUT /connector-plugins/{p}/config/validate.
type Validation struct {
	Name       string       `json:"name"`
	ErrorCount int          `json:"error_count"`
	Groups     []string     `json:"groups"`
	Configs    []ConfigInfo `json:"configs"`
}

// Errors lists "key: message" for every error, in order.
func (v *Validation) Errors() []string {
	var out []string
	for _, c := range v.Configs {
		for _, e := range c.Value.Errors {
			out = append(out, c.Value.Name+": "+e)
		}
	}
	return out
}

// KeyInfos returns the definitions of fields in Kafka Connect's form.
func KeyInfos(fields []connect.FieldSpec) []ConfigKeyInfo {
	out := make([]ConfigKeyInfo, 0, len(fields))
	inGroup := map[string]int{}
	for i, f := range fields {
		ki := ConfigKeyInfo{Name: f.Name, Type: string(f.Type), Required: f.Required && f.Default == "", Importance: f.Importance,
			Documentation: f.Doc, Width: "NONE", DisplayName: f.Name, Dependents: []string{}, Order: i + 1}
		if ki.Type == "" {
			ki.Type = string(connect.TypeString)
		}
		if ki.Importance == "" {
			ki.Importance = "MEDIUM"
		}
		if !ki.Required {
			d := f.Default
			ki.DefaultValue = &d
		}
		if f.Group != "" {
			g := f.Group
			ki.Group = &g
			inGroup[g]++
			ki.OrderInGroup = inGroup[g]
		} else {
			ki.OrderInGroup = -1
		}
		out = append(out, ki)
	}
	return out
}

// validator checks connector configs against the common keys, the plugin's
// spec and the plugins named by converters, transforms and predicates.
type validator struct {
	exactlyOnceEnabled bool
	workerConfig       connect.Config
}

// validate builds the full validation answer for cfg. class is the plugin
// the config is validated for.
func (v *validator) validate(p *connect.Plugin, cfg connect.Config) *Validation {
	fields := fieldsFor(p.Spec.Kind)
	errs := map[string][]string{}
	add := func(key, msg string) {
		for _, m := range errs[key] {
			if m == msg {
				return
			}
		}
		errs[key] = append(errs[key], msg)
	}

	common := &connect.Spec{Fields: fields}
	for _, fe := range common.Validate(cfg) {
		add(fe.Field, fe.Message)
	}
	if name := cfg["name"]; strings.Contains(name, "/") {
		add("name", "Connector name must not contain '/'")
	} else if name != "" && strings.TrimSpace(name) != name {
		add("name", "Connector name must not start or end with whitespace")
	}
	switch p.Spec.Kind {
	case connect.SinkKind:
		topics := cfg.List(common, "topics")
		regex := strings.TrimSpace(cfg["topics.regex"])
		if len(topics) > 0 && regex != "" {
			add("topics", "topics and topics.regex are mutually exclusive")
			add("topics.regex", "topics and topics.regex are mutually exclusive")
		} else if len(topics) == 0 && regex == "" {
			add("topics", "Must configure one of topics or topics.regex")
			add("topics.regex", "Must configure one of topics or topics.regex")
		}
		if dlq := strings.TrimSpace(cfg["errors.deadletterqueue.topic.name"]); dlq != "" {
			for _, t := range topics {
				if t == dlq {
					add("errors.deadletterqueue.topic.name", fmt.Sprintf("The DLQ topic '%s' may not be included in the list of topics ('topics=%s') to consume", dlq, strings.Join(topics, ",")))
				}
			}
			if regex != "" {
				if re, err := regexp.Compile(anchored(regex)); err == nil && re.MatchString(dlq) {
					add("errors.deadletterqueue.topic.name", fmt.Sprintf("The DLQ topic '%s' may not be matched by the regex for the topics to consume ('topics.regex=%s')", dlq, regex))
				}
			}
		}
	case connect.SourceKind:
		if strings.EqualFold(strings.TrimSpace(cfg["exactly.once.support"]), "required") && !v.exactlyOnceEnabled {
			add("exactly.once.support", "This worker does not have exactly-once source support enabled (exactly.once.source.support).")
		}
	}
	for _, side := range []string{"key.converter", "value.converter", "header.converter"} {
		class := cfg[side]
		if class == "" {
			class = v.workerConfig[side]
		}
		if class == "" {
			continue
		}
		cp, ok := connect.Lookup(class)
		if !ok || cp.NewConverter == nil {
			add(side, fmt.Sprintf("Class %s could not be found or is not a converter.", class))
			continue
		}
		c := cp.NewConverter()
		if err := c.Configure(converterConfig(v.workerConfig, cfg, side), side == "key.converter"); err != nil {
			add(side, err.Error())
		}
	}
	v.validateChain(cfg, "transforms", connect.TransformKind, add)
	v.validateChain(cfg, "predicates", connect.PredicateKind, add)

	var pluginErrs []connect.FieldError
	pluginErrs = p.Spec.Validate(cfg)
	for _, fe := range pluginErrs {
		add(fe.Field, fe.Message)
	}

	// The answer: common fields, then the plugin's, then keys the user set
	// that neither declares (transform keys ...), so each error has a home.
	all := append([]connect.FieldSpec(nil), fields...)
	known := map[string]bool{}
	for _, f := range all {
		known[f.Name] = true
	}
	for _, f := range p.Spec.Fields {
		if !known[f.Name] { // a plugin may redeclare topics or tasks.max
			known[f.Name] = true
			all = append(all, f)
		}
	}
	var extra []string
	for k := range errs {
		if !known[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	for _, k := range extra {
		all = append(all, connect.FieldSpec{Name: k, Type: connect.TypeString})
		known[k] = true
	}
	res := &Validation{Name: PluginClass(p), Groups: []string{}, Configs: []ConfigInfo{}}
	seenGroup := map[string]bool{}
	for _, ki := range KeyInfos(all) {
		if ki.Group != nil && !seenGroup[*ki.Group] {
			seenGroup[*ki.Group] = true
			res.Groups = append(res.Groups, *ki.Group)
		}
		cv := ConfigValue{Name: ki.Name, RecommendedValues: []string{}, Errors: []string{}, Visible: true}
		if val, ok := cfg[ki.Name]; ok {
			val := val
			cv.Value = &val
		} else if ki.DefaultValue != nil && *ki.DefaultValue != "" {
			cv.Value = ki.DefaultValue
		}
		for _, f := range all {
			if f.Name == ki.Name && len(f.Recommended) > 0 {
				cv.RecommendedValues = append(cv.RecommendedValues, f.Recommended...)
				break
			}
		}
		if e := errs[ki.Name]; len(e) > 0 {
			cv.Errors = e
			res.ErrorCount += len(e)
		}
		res.Configs = append(res.Configs, ConfigInfo{Definition: ki, Value: cv})
	}
	return res
}

// validateChain checks transforms or predicates: each alias has a known
// type of the right kind that accepts its keys, and each predicate a
// transform names exists.
func (v *validator) validateChain(cfg connect.Config, key string, kind connect.Kind, add func(string, string)) {
	list := cfg.List(&connect.Spec{}, key)
	seen := map[string]bool{}
	for _, alias := range list {
		if seen[alias] {
			add(key, fmt.Sprintf("Duplicate alias provided: %s", alias))
			continue
		}
		seen[alias] = true
		prefix := key + "." + alias + "."
		typeKey := prefix + "type"
		class := strings.TrimSpace(cfg[typeKey])
		if class == "" {
			add(typeKey, fmt.Sprintf("Missing required configuration %q which has no default value.", typeKey))
			continue
		}
		p, ok := connect.Lookup(class)
		if !ok || p.Spec.Kind != kind {
			add(typeKey, fmt.Sprintf("Class %s could not be found or is not a %s.", class, kind))
			continue
		}
		sub := subConfig(cfg, prefix)
		delete(sub, "type")
		if kind == connect.TransformKind {
			if pred := strings.TrimSpace(sub["predicate"]); pred != "" {
				if !containsString(cfg.List(&connect.Spec{}, "predicates"), pred) {
					add(prefix+"predicate", fmt.Sprintf("Predicate %s is not listed in predicates", pred))
				}
			}
			if n := sub["negate"]; n != "" && !strings.EqualFold(n, "true") && !strings.EqualFold(n, "false") {
				add(prefix+"negate", "Expected value to be either true or false")
			}
			delete(sub, "predicate")
			delete(sub, "negate")
		}
		for _, fe := range p.Spec.Validate(sub) {
			add(prefix+fe.Field, fe.Message)
		}
		var err error
		switch kind {
		case connect.TransformKind:
			err = p.NewTransform().Configure(sub)
		case connect.PredicateKind:
			err = p.NewPredicate().Configure(sub)
		}
		if err != nil {
			add(typeKey, fmt.Sprintf("Invalid configuration of %s %s: %v", kind, alias, err))
		}
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// converterConfig is the config handed to a converter: the worker's
// <side>.* keys overridden by the connector's.
func converterConfig(worker, cfg connect.Config, side string) connect.Config {
	out := subConfig(worker, side+".")
	for k, v := range subConfig(cfg, side+".") {
		out[k] = v
	}
	return out
}

// pluginClass is the class name reported for a plugin: its first fully
// qualified alias (what Kafka Connect users know), else its short name.
func PluginClass(p *connect.Plugin) string {
	if len(p.Spec.Aliases) > 0 {
		return p.Spec.Aliases[0]
	}
	return p.Spec.Name
}
