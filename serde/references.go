package serde

import (
	"context"
	"fmt"
	"strings"

	"github.com/sluicedata/sluice/serde/srclient"
)

// refSchema is a schema a writer schema references, with its import name
// (Avro: the full name of the named type; Protobuf: the import path).
type refSchema struct {
	name string
	srclient.Schema
}

// fetchRefs fetches the schemas refs name from the registry, recursively,
// dependencies first and each once, so that parsing them in order defines
// every name before its use.
func fetchRefs(ctx context.Context, c *srclient.Client, refs []srclient.Reference) ([]refSchema, error) {
	var out []refSchema
	seen := map[srclient.Reference]bool{}
	var visit func(refs []srclient.Reference, depth int) error
	visit = func(refs []srclient.Reference, depth int) error {
		if depth > 32 {
			return fmt.Errorf("schema references nest deeper than 32 levels")
		}
		for _, r := range refs {
			if seen[r] {
				continue
			}
			seen[r] = true
			sv, err := c.Version(ctx, r.Subject, r.Version)
			if err != nil {
				return fmt.Errorf("reference %q: %w", r.Name, err)
			}
			if err := visit(sv.References, depth+1); err != nil {
				return err
			}
			out = append(out, refSchema{name: r.Name, Schema: sv.Schema})
		}
		return nil
	}
	return out, visit(refs, 0)
}

// protoImports maps the import paths of refs to their texts; Google's
// well-known files come with the compiler and are left out.
func protoImports(refs []refSchema) map[string]string {
	m := map[string]string{}
	for _, r := range refs {
		if !strings.HasPrefix(r.name, "google/protobuf/") {
			m[r.name] = r.Schema.Schema
		}
	}
	return m
}
