package registry

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// jsonSchema is a parsed JSON Schema (drafts 4 to 2020-12, detected from
// $schema; 2020-12 when absent). doc is the decoded document used for
// compatibility checks.
type jsonSchema struct {
	doc any
}

// noLoader refuses to fetch anything: a JSON schema may only point to its
// registered references, never to the network or the file system.
type noLoader struct{}

func (noLoader) Load(u string) (any, error) {
	return nil, fmt.Errorf("unknown reference %q: register it and list it in references", u)
}

const jsonSchemaBase = "mem://sluice/"

func parseJSONSchema(text string, refs []resolvedRef) (*jsonSchema, error) {
	c := jsonschema.NewCompiler()
	c.UseLoader(noLoader{})
	for _, r := range refs {
		if r.Type != TypeJSON {
			return nil, fmt.Errorf("reference %q is a %s schema, a JSON schema can only reference JSON schemas", r.Name, r.Type)
		}
		doc, err := jsonschema.UnmarshalJSON(strings.NewReader(r.Text))
		if err != nil {
			return nil, fmt.Errorf("reference %q: %w", r.Name, err)
		}
		u := r.Name
		if pu, err := url.Parse(u); err != nil || !pu.IsAbs() {
			u = jsonSchemaBase + r.Name
		}
		if err := c.AddResource(u, doc); err != nil {
			return nil, fmt.Errorf("reference %q: %w", r.Name, err)
		}
	}
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(text))
	if err != nil {
		return nil, err
	}
	loc := jsonSchemaBase + "schema.json"
	if err := c.AddResource(loc, doc); err != nil {
		return nil, err
	}
	if _, err := c.Compile(loc); err != nil {
		return nil, err
	}
	return &jsonSchema{doc: doc}, nil
}

func (j *jsonSchema) compatible(writer parsed) []string {
	w, ok := writer.(*jsonSchema)
	if !ok {
		return []string{"the old schema is not a JSON schema"}
	}
	return jsonCompatible(j.doc, w.doc)
}
