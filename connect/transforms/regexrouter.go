package transforms

import (
	"github.com/sluicedata/sluice/connect"
)

// RegexRouter renames the topic when it matches a regular expression
// (the whole topic name must match, as Java's Matcher.matches).
type RegexRouter struct{ re *regexpReplacer }

var regexRouterFields = []connect.FieldSpec{
	{Name: "regex", Type: connect.TypeString, Required: true, Importance: "HIGH",
		Doc: "Regular expression to use for matching.", Validate: func(v string) error { _, err := compileJavaRegex(v); return err }},
	{Name: "replacement", Type: connect.TypeString, Required: true, Importance: "HIGH",
		Doc: "Replacement string; $1, $2 ... refer to the regex's groups."},
}

func init() {
	registerOne(kafkaPkg+"RegexRouter", "RegexRouter", "Update the record topic using the configured regular expression and replacement string. "+
		"The regex must match the whole topic name; $n in the replacement refers to group n.",
		regexRouterFields, func() connect.Transform { return &RegexRouter{} })
}

// Configure compiles the regex.
func (t *RegexRouter) Configure(cfg connect.Config) error {
	if err := validate(&connect.Spec{Fields: regexRouterFields}, cfg); err != nil {
		return err
	}
	re, err := compileJavaRegex(cfg["regex"])
	if err != nil {
		return err
	}
	t.re = &regexpReplacer{re: re, template: javaReplacement(cfg["replacement"])}
	return nil
}

// Apply renames matching topics.
func (t *RegexRouter) Apply(r *connect.Record) (*connect.Record, error) {
	if topic, ok := t.re.replace(r.Topic); ok {
		c := r.Clone()
		c.Topic = topic
		return c, nil
	}
	return r, nil
}
