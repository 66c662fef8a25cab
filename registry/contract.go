package registry

// Data-contract defaults from configs: defaultMetadata/defaultRuleSet go
// under, overrideMetadata/overrideRuleSet over, the metadata and rule set of
// each schema registered; compatibilityGroup limits compatibility checks to
// versions sharing a metadata property value.

import (
	"encoding/json"
	"slices"

	contract "github.com/sluicedata/sluice/serde/rules"
)

// contractConfig resolves the data-contract fields of subject's config
// field by field: the subject's value, else the global one.
func (st *state) contractConfig(subject string) configValue {
	var out configValue
	for _, s := range []string{"", subject} {
		c, ok := st.config[s]
		if !ok {
			continue
		}
		if c.CompatibilityGroup != "" {
			out.CompatibilityGroup = c.CompatibilityGroup
		}
		for _, f := range []struct{ dst, src *json.RawMessage }{{&out.DefaultMetadata, &c.DefaultMetadata},
			{&out.OverrideMetadata, &c.OverrideMetadata}, {&out.DefaultRuleSet, &c.DefaultRuleSet},
			{&out.OverrideRuleSet, &c.OverrideRuleSet}} {
			if !isEmptyJSON(*f.src) {
				*f.dst = *f.src
			}
		}
	}
	return out
}

// applyContractConfig merges the config's defaults and overrides into the
// request's metadata and rule set.
func (st *state) applyContractConfig(subject string, req *SchemaRequest) error {
	cc := st.contractConfig(subject)
	if !isEmptyJSON(cc.DefaultMetadata) || !isEmptyJSON(cc.OverrideMetadata) {
		m, err := mergeMetadata(cc.DefaultMetadata, req.Metadata, cc.OverrideMetadata)
		if err != nil {
			return errf(422, 42210, "Invalid metadata: %s", err)
		}
		req.Metadata = m
	}
	if !isEmptyJSON(cc.DefaultRuleSet) || !isEmptyJSON(cc.OverrideRuleSet) {
		rs, err := mergeRuleSets(cc.DefaultRuleSet, req.RuleSet, cc.OverrideRuleSet)
		if err != nil {
			return errf(422, 42210, "Invalid ruleSet: %s", err)
		}
		req.RuleSet = rs
	}
	return nil
}

// mergeMetadata merges metadata layers, later ones winning: tags per path
// and sensitive names are unions, properties are replaced key by key.
func mergeMetadata(layers ...json.RawMessage) (json.RawMessage, error) {
	out := contract.Metadata{}
	for _, l := range layers {
		_, m, err := contract.Parse(nil, l)
		if err != nil {
			return nil, err
		}
		if m == nil {
			continue
		}
		for path, tags := range m.Tags {
			if out.Tags == nil {
				out.Tags = map[string][]string{}
			}
			for _, t := range tags {
				if !slices.Contains(out.Tags[path], t) {
					out.Tags[path] = append(out.Tags[path], t)
				}
			}
		}
		for k, v := range m.Properties {
			if out.Properties == nil {
				out.Properties = map[string]string{}
			}
			out.Properties[k] = v
		}
		for _, s := range m.Sensitive {
			if !slices.Contains(out.Sensitive, s) {
				out.Sensitive = append(out.Sensitive, s)
			}
		}
	}
	if out.Tags == nil && out.Properties == nil && out.Sensitive == nil {
		return nil, nil
	}
	return json.Marshal(out)
}

// mergeRuleSets merges rule set layers: in each group a later rule
// replaces an earlier one of the same name, other rules are appended.
func mergeRuleSets(layers ...json.RawMessage) (json.RawMessage, error) {
	out := contract.RuleSet{}
	merge := func(dst []contract.Rule, src []contract.Rule) []contract.Rule {
		for _, r := range src {
			dst = slices.DeleteFunc(dst, func(x contract.Rule) bool { return x.Name == r.Name })
			dst = append(dst, r)
		}
		return dst
	}
	for _, l := range layers {
		rs, _, err := contract.Parse(l, nil)
		if err != nil {
			return nil, err
		}
		if rs == nil {
			continue
		}
		out.MigrationRules = merge(out.MigrationRules, rs.MigrationRules)
		out.DomainRules = merge(out.DomainRules, rs.DomainRules)
		out.EncodingRules = merge(out.EncodingRules, rs.EncodingRules)
	}
	if out.MigrationRules == nil && out.DomainRules == nil && out.EncodingRules == nil {
		return nil, nil
	}
	return json.Marshal(out)
}

// inGroup keeps the versions whose metadata property group has the value
// the new schema's metadata gives it (compatibilityGroup).
func inGroup(vs []*version, group string, meta json.RawMessage) []*version {
	if group == "" {
		return vs
	}
	value := func(raw json.RawMessage) string {
		_, m, err := contract.Parse(nil, raw)
		if err != nil || m == nil {
			return ""
		}
		return m.Properties[group]
	}
	want := value(meta)
	var out []*version
	for _, v := range vs {
		if value(v.Metadata) == want {
			out = append(out, v)
		}
	}
	return out
}
