package transforms

import (
	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/connect/internal/values"
)

// InsertHeader adds a header with a literal value.
type InsertHeader struct {
	header string
	value  any
	schema *connect.Schema
}

var insertHeaderFields = []connect.FieldSpec{
	{Name: "header", Type: connect.TypeString, Required: true, Importance: "HIGH", Doc: "The name of the header."},
	{Name: "value.literal", Type: connect.TypeString, Required: true, Importance: "HIGH",
		Doc: "The literal value that is to be set as the header value on all records. Its type is inferred as Kafka's Values.parseString does: boolean, the smallest integer type, float32/float64, or string."},
}

func init() {
	registerOne(kafkaPkg+"InsertHeader", "InsertHeader", "Add a header to each record.",
		insertHeaderFields, func() connect.Transform { return &InsertHeader{} })
}

// Configure reads header and value.literal.
func (t *InsertHeader) Configure(cfg connect.Config) error {
	if err := validate(&connect.Spec{Fields: insertHeaderFields}, cfg); err != nil {
		return err
	}
	t.header = cfg["header"]
	t.schema, t.value = values.ParseString(cfg["value.literal"])
	return nil
}

// Apply appends the header.
func (t *InsertHeader) Apply(r *connect.Record) (*connect.Record, error) {
	c := r.Clone()
	c.Headers = append(c.Headers, connect.Header{Key: t.header, Value: t.value, Schema: t.schema})
	return c, nil
}
