package transforms

import (
	"github.com/sluicedata/sluice/connect"
)

// DropHeaders removes headers by name.
type DropHeaders struct{ names map[string]bool }

var dropHeadersFields = []connect.FieldSpec{
	{Name: "headers", Type: connect.TypeList, Required: true, Importance: "HIGH", Doc: "The name of the headers to be removed."},
}

func init() {
	registerOne(kafkaPkg+"DropHeaders", "DropHeaders", "Removes one or more headers from each record.",
		dropHeadersFields, func() connect.Transform { return &DropHeaders{} })
}

// Configure reads headers.
func (t *DropHeaders) Configure(cfg connect.Config) error {
	if err := validate(&connect.Spec{Fields: dropHeadersFields}, cfg); err != nil {
		return err
	}
	t.names = map[string]bool{}
	for _, h := range splitList(cfg["headers"]) {
		t.names[h] = true
	}
	if len(t.names) == 0 {
		return connect.FieldError{Field: "headers", Message: "at least one header name is needed"}
	}
	return nil
}

// Apply removes the headers.
func (t *DropHeaders) Apply(r *connect.Record) (*connect.Record, error) {
	c := r.Clone()
	c.Headers = c.Headers[:0]
	for _, h := range r.Headers {
		if !t.names[h.Key] {
			c.Headers = append(c.Headers, h)
		}
	}
	return c, nil
}
