package rules

import (
	"context"
	"testing"
)

// BenchmarkRules measures one record through a rule set: a CEL condition,
// a CEL_FIELD masking transform on a tagged field, and no rules at all.
func BenchmarkRules(b *testing.B) {
	e, err := NewExecutor()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, c := range []struct{ name, rules string }{
		{"none", `{"domainRules":[]}`},
		{"condition", `{"domainRules":[{"name":"adult","kind":"CONDITION","type":"CEL","mode":"WRITE","expr":"message.age >= 18 && message.address.city != ''"}]}`},
		{"field-mask", `{"domainRules":[{"name":"mask","kind":"TRANSFORM","type":"CEL_FIELD","mode":"WRITE","tags":["PII"],"expr":"'XXX'"}]}`},
	} {
		b.Run(c.name, func(b *testing.B) {
			rs, md, err := Parse([]byte(c.rules), []byte(`{"tags":{"**.ssn":["PII"]}}`))
			if err != nil {
				b.Fatal(err)
			}
			tg := Target{Subject: "users-value", RootName: "User", Type: userType, RuleSet: rs, Metadata: md}
			v := user("ann", 30, "123")
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Write(ctx, tg, v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
