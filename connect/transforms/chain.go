package transforms

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/sluicedata/sluice/connect"
)

// Chain is a connector's transforms, in the order of its transforms key,
// each with its optional predicate. It is built once per task and applied
// to every record; a Chain is not safe for concurrent use by several tasks
// unless its transforms are (the ones in this package are).
type Chain struct {
	stages []stage
}

type stage struct {
	alias, class string
	t            connect.Transform
	pred         connect.Predicate
	negate       bool
}

// Apply runs r through the transforms. A nil record means a transform
// dropped it; the rest of the chain is skipped.
func (c *Chain) Apply(r *connect.Record) (*connect.Record, error) {
	for _, s := range c.stages {
		if r == nil {
			return nil, nil
		}
		if s.pred != nil && s.pred.Test(r) == s.negate {
			continue
		}
		out, err := s.t.Apply(r)
		if err != nil {
			return nil, fmt.Errorf("transform %q (%s): %w", s.alias, s.class, err)
		}
		r = out
	}
	return r, nil
}

// Len is the number of transforms in the chain.
func (c *Chain) Len() int { return len(c.stages) }

// NewChain builds the chain of a connector config:
//
//	transforms=a,b
//	transforms.a.type=<class or short name>
//	transforms.a.<key>=...          (the transform's own keys)
//	transforms.a.predicate=p        (optional: apply only when p holds)
//	transforms.a.negate=true        (optional: apply only when p does not hold)
//	predicates=p
//	predicates.p.type=<class or short name>
//	predicates.p.<key>=...
//
// It returns an error naming every bad key. An empty config gives an empty
// chain that returns records unchanged.
func NewChain(cfg connect.Config) (*Chain, error) {
	c, errs := build(cfg)
	if len(errs) > 0 {
		all := make([]error, len(errs))
		for i, e := range errs {
			all[i] = e
		}
		return nil, errors.Join(all...)
	}
	return c, nil
}

// Validate returns the problems of the transforms.* and predicates.* keys
// of cfg, each naming the full key (as /connector-plugins/.../config/validate
// reports them). Other keys are ignored.
func Validate(cfg connect.Config) []connect.FieldError {
	_, errs := build(cfg)
	return errs
}

func build(cfg connect.Config) (*Chain, []connect.FieldError) {
	var errs []connect.FieldError
	preds := map[string]connect.Predicate{}
	predAliases, dupErr := aliases(cfg, "predicates")
	if dupErr != nil {
		errs = append(errs, *dupErr)
	}
	for _, alias := range predAliases {
		prefix := "predicates." + alias + "."
		p, perrs := plugin(cfg, prefix, connect.PredicateKind)
		errs = append(errs, perrs...)
		if p == nil {
			continue
		}
		sub := subConfig(cfg, prefix, "type")
		if ferrs := p.Spec.Validate(sub); len(ferrs) > 0 {
			errs = append(errs, prefixed(prefix, ferrs)...)
			continue
		}
		pred := p.NewPredicate()
		if err := pred.Configure(sub); err != nil {
			errs = append(errs, configureError(prefix, err)...)
			continue
		}
		preds[alias] = pred
	}

	chain := &Chain{}
	trAliases, dupErr := aliases(cfg, "transforms")
	if dupErr != nil {
		errs = append(errs, *dupErr)
	}
	for _, alias := range trAliases {
		prefix := "transforms." + alias + "."
		p, perrs := plugin(cfg, prefix, connect.TransformKind)
		errs = append(errs, perrs...)
		st := stage{alias: alias}
		if name := strings.TrimSpace(cfg[prefix+"predicate"]); name != "" {
			if pred, ok := preds[name]; ok {
				st.pred = pred
			} else if !contains(predAliases, name) {
				errs = append(errs, connect.FieldError{Field: prefix + "predicate",
					Message: fmt.Sprintf("Invalid value %s for configuration %spredicate: predicate %q is not listed in the predicates key", name, prefix, name)})
			}
		}
		if neg, ok := cfg[prefix+"negate"]; ok {
			switch strings.ToLower(strings.TrimSpace(neg)) {
			case "true":
				st.negate = true
			case "false", "":
			default:
				errs = append(errs, connect.FieldError{Field: prefix + "negate",
					Message: fmt.Sprintf("Invalid value %s for configuration %snegate: Expected value to be either true or false", neg, prefix)})
			}
			if cfg[prefix+"predicate"] == "" && st.negate {
				errs = append(errs, connect.FieldError{Field: prefix + "negate",
					Message: "negate is set but the transform has no predicate; set " + prefix + "predicate"})
			}
		}
		if p == nil {
			continue
		}
		st.class = p.Spec.Aliases[0]
		sub := subConfig(cfg, prefix, "type", "predicate", "negate")
		if ferrs := p.Spec.Validate(sub); len(ferrs) > 0 {
			errs = append(errs, prefixed(prefix, ferrs)...)
			continue
		}
		st.t = p.NewTransform()
		if err := st.t.Configure(sub); err != nil {
			errs = append(errs, configureError(prefix, err)...)
			continue
		}
		chain.stages = append(chain.stages, st)
	}
	return chain, errs
}

// aliases reads a list key; a repeated alias is an error.
func aliases(cfg connect.Config, key string) ([]string, *connect.FieldError) {
	var out []string
	seen := map[string]bool{}
	for _, a := range splitList(cfg[key]) {
		if seen[a] {
			return out, &connect.FieldError{Field: key, Message: fmt.Sprintf("Duplicate alias provided: %q", a)}
		}
		seen[a] = true
		out = append(out, a)
	}
	return out, nil
}

// plugin looks up <prefix>type as a plugin of kind k.
func plugin(cfg connect.Config, prefix string, k connect.Kind) (*connect.Plugin, []connect.FieldError) {
	key := prefix + "type"
	class := strings.TrimSpace(cfg[key])
	if class == "" {
		return nil, []connect.FieldError{{Field: key, Message: fmt.Sprintf("Missing required configuration %q which has no default value.", key)}}
	}
	p, ok := connect.Lookup(class)
	if !ok {
		return nil, []connect.FieldError{{Field: key, Message: fmt.Sprintf("Invalid value %s for configuration %s: Class %s could not be found.", class, key, class)}}
	}
	if p.Spec.Kind != k {
		return nil, []connect.FieldError{{Field: key, Message: fmt.Sprintf("Invalid value %s for configuration %s: %s is a %s, not a %s", class, key, class, p.Spec.Kind, k)}}
	}
	return p, nil
}

// subConfig returns the keys under prefix, without it and without the
// chain's own keys.
func subConfig(cfg connect.Config, prefix string, skip ...string) connect.Config {
	sub := connect.Config{}
	for k, v := range cfg {
		if rest, ok := strings.CutPrefix(k, prefix); ok && !contains(skip, rest) {
			sub[rest] = v
		}
	}
	return sub
}

func prefixed(prefix string, errs []connect.FieldError) []connect.FieldError {
	out := make([]connect.FieldError, len(errs))
	for i, e := range errs {
		out[i] = connect.FieldError{Field: prefix + e.Field, Message: e.Message}
	}
	return out
}

// configureError turns an error of Configure into field errors: FieldErrors
// (possibly joined) keep their field; anything else is put on the type key.
func configureError(prefix string, err error) []connect.FieldError {
	var out []connect.FieldError
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		var fe connect.FieldError
		if errors.As(e, &fe) {
			out = append(out, connect.FieldError{Field: prefix + fe.Field, Message: fe.Message})
			return
		}
		out = append(out, connect.FieldError{Field: prefix + "type", Message: e.Error()})
	}
	walk(err)
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Specs returns the specs of every transform and predicate registered by
// this package, sorted by name, for generated docs.
func Specs() []connect.Spec {
	var out []connect.Spec
	for _, p := range connect.Plugins() {
		if p.Spec.Kind == connect.TransformKind || p.Spec.Kind == connect.PredicateKind {
			out = append(out, p.Spec)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
