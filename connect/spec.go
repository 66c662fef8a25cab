package connect

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Kind says whether a plugin reads from the outside world or writes to it.
type Kind string

// Plugin kinds, spelled as Kafka Connect's /connector-plugins reports them.
const (
	SourceKind    Kind = "source"
	SinkKind      Kind = "sink"
	TransformKind Kind = "transformation"
	PredicateKind Kind = "predicate"
	ConverterKind Kind = "converter"
)

// FieldType is the type of a config field, named as Kafka Connect's ConfigDef
// names them in /config/validate answers.
type FieldType string

// Config field types.
const (
	TypeString   FieldType = "STRING"
	TypeInt      FieldType = "INT"
	TypeLong     FieldType = "LONG"
	TypeDouble   FieldType = "DOUBLE"
	TypeBoolean  FieldType = "BOOLEAN"
	TypeList     FieldType = "LIST" // comma-separated
	TypePassword FieldType = "PASSWORD"
	TypeClass    FieldType = "CLASS"
)

// FieldSpec declares one config key of a plugin. Specs drive validation,
// /connector-plugins/{p}/config(/validate), docs/connectors/ and UI forms.
type FieldSpec struct {
	Name string
	Type FieldType
	// Default is the value used when the key is absent, as the user would
	// write it ("1000", "true"). Empty with Required false means no default.
	Default  string
	Required bool
	Doc      string
	// Group and Importance (HIGH, MEDIUM, LOW) are shown in forms and docs.
	Group      string
	Importance string
	// Recommended lists the accepted values of an enumeration; a value
	// outside it fails validation.
	Recommended []string
	// Validate checks a present value beyond its type. It returns an error
	// whose text says what is wrong and what is accepted.
	Validate func(value string) error
}

// Spec declares a plugin: its name, kind, the class names it is known by in
// Kafka Connect and its config fields.
type Spec struct {
	// Name is the short class name users write (`datagen`, `file`).
	Name string
	// Aliases are the fully qualified class names accepted for it
	// (io.confluent.kafka.connect.datagen.DatagenConnector ...).
	Aliases []string
	Kind    Kind
	Version string
	Doc     string
	Fields  []FieldSpec
}

// Field returns the spec of key name.
func (s *Spec) Field(name string) (FieldSpec, bool) {
	for _, f := range s.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return FieldSpec{}, false
}

// Config is a plugin config as the user wrote it: string keys and values,
// as in Kafka Connect's JSON.
type Config map[string]string

// FieldError names a config key and what is wrong with its value.
type FieldError struct {
	Field   string
	Message string
}

func (e FieldError) Error() string { return fmt.Sprintf("%s: %s", e.Field, e.Message) }

// Validate checks cfg against the spec's fields: required keys present,
// values of the right type and within Recommended, custom checks. It returns
// every problem found, one per field, in field order. Keys the spec does not
// declare are accepted (Kafka Connect passes them through).
func (s *Spec) Validate(cfg Config) []FieldError {
	var errs []FieldError
	for _, f := range s.Fields {
		v, ok := cfg[f.Name]
		if !ok || v == "" {
			if f.Required && f.Default == "" {
				errs = append(errs, FieldError{f.Name, fmt.Sprintf("Missing required configuration %q which has no default value.", f.Name)})
			}
			continue
		}
		if err := checkFieldType(f, v); err != nil {
			errs = append(errs, FieldError{f.Name, err.Error()})
			continue
		}
		if len(f.Recommended) > 0 && f.Type != TypeList && !containsFold(f.Recommended, v) {
			errs = append(errs, FieldError{f.Name, fmt.Sprintf("Invalid value %s for configuration %s: must be one of %s", v, f.Name, strings.Join(f.Recommended, ", "))})
			continue
		}
		if f.Validate != nil {
			if err := f.Validate(v); err != nil {
				errs = append(errs, FieldError{f.Name, fmt.Sprintf("Invalid value %s for configuration %s: %v", v, f.Name, err)})
			}
		}
	}
	return errs
}

func checkFieldType(f FieldSpec, v string) error {
	v = strings.TrimSpace(v)
	switch f.Type {
	case TypeInt:
		if _, err := strconv.ParseInt(v, 10, 32); err != nil {
			return fmt.Errorf("Invalid value %s for configuration %s: Not a number of type INT", v, f.Name)
		}
	case TypeLong:
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			return fmt.Errorf("Invalid value %s for configuration %s: Not a number of type LONG", v, f.Name)
		}
	case TypeDouble:
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return fmt.Errorf("Invalid value %s for configuration %s: Not a number of type DOUBLE", v, f.Name)
		}
	case TypeBoolean:
		if !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
			return fmt.Errorf("Invalid value %s for configuration %s: Expected value to be either true or false", v, f.Name)
		}
	}
	return nil
}

func containsFold(list []string, v string) bool {
	for _, s := range list {
		if strings.EqualFold(s, v) {
			return true
		}
	}
	return false
}

// String returns key's value, or the field's default when absent.
func (c Config) String(s *Spec, key string) string {
	if v, ok := c[key]; ok && v != "" {
		return v
	}
	if f, ok := s.Field(key); ok {
		return f.Default
	}
	return ""
}

// Int returns key's value as an int64 (the default when absent). Call it after
// Validate; an unparsable value reads as 0.
func (c Config) Int(s *Spec, key string) int64 {
	n, _ := strconv.ParseInt(strings.TrimSpace(c.String(s, key)), 10, 64)
	return n
}

// Float returns key's value as a float64.
func (c Config) Float(s *Spec, key string) float64 {
	f, _ := strconv.ParseFloat(strings.TrimSpace(c.String(s, key)), 64)
	return f
}

// Bool returns key's value as a bool.
func (c Config) Bool(s *Spec, key string) bool {
	return strings.EqualFold(strings.TrimSpace(c.String(s, key)), "true")
}

// List returns key's comma-separated value, trimmed, without empty items.
func (c Config) List(s *Spec, key string) []string {
	var out []string
	for _, p := range strings.Split(c.String(s, key), ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Plugin is a registered component: its spec and a constructor for its kind.
// Exactly one of the constructors is set, matching Spec.Kind.
type Plugin struct {
	Spec         Spec
	NewSource    func() SourceConnector
	NewSink      func() SinkConnector
	NewTransform func() Transform
	NewPredicate func() Predicate
	NewConverter func() Converter
}

var (
	pluginsMu sync.RWMutex
	plugins   = map[string]*Plugin{} // by name and by alias
)

// Register makes a plugin known under its name and aliases. Connector, transform
// and converter packages call it from init. A second registration of the same
// name panics: two plugins answering to one class name is a programming error.
func Register(p Plugin) {
	pluginsMu.Lock()
	defer pluginsMu.Unlock()
	pp := &p
	for _, n := range append([]string{p.Spec.Name}, p.Spec.Aliases...) {
		if _, dup := plugins[n]; dup {
			panic(fmt.Sprintf("connect: plugin %q registered twice", n))
		}
		plugins[n] = pp
	}
}

// Lookup finds a plugin by short name or alias.
func Lookup(class string) (*Plugin, bool) {
	pluginsMu.RLock()
	defer pluginsMu.RUnlock()
	p, ok := plugins[class]
	return p, ok
}

// Plugins lists the registered plugins once each, sorted by name.
func Plugins() []*Plugin {
	pluginsMu.RLock()
	defer pluginsMu.RUnlock()
	seen := map[*Plugin]bool{}
	var out []*Plugin
	for _, p := range plugins {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Spec.Name < out[j].Spec.Name })
	return out
}

// Keys the runtime-independent task split writes into each task's config.
const (
	TaskIndexKey = "task.index"
	TaskCountKey = "task.count"
)

// SplitByIndex returns max(maxTasks, 1) copies of cfg, each with its task
// number under TaskIndexKey and the task count under TaskCountKey, for
// connectors whose tasks share the work by index (a file glob, topic
// partitions).
func SplitByIndex(cfg Config, maxTasks int) []Config {
	n := max(maxTasks, 1)
	out := make([]Config, n)
	for i := range out {
		c := make(Config, len(cfg)+2)
		for k, v := range cfg {
			c[k] = v
		}
		c[TaskIndexKey], c[TaskCountKey] = strconv.Itoa(i), strconv.Itoa(n)
		out[i] = c
	}
	return out
}
