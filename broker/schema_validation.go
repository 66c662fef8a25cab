package broker

// Broker-side schema validation (Confluent's
// confluent.key.schema.validation / confluent.value.schema.validation
// topic settings): every record's key or value must carry the Confluent
// wire format (magic byte 0, 4-byte schema id) with an id registered under
// the topic's subject (TopicNameStrategy: <topic>-key / <topic>-value).
// The broker knows nothing of the registry: the wiring hands it a
// SchemaChecker (the registry) with SetSchemaChecker. Null values
// (tombstones) and null keys pass.

import (
	"encoding/binary"
	"fmt"

	"github.com/sluicedata/sluice/broker/storage"
)

// SchemaChecker tells whether a schema id is registered under a subject.
type SchemaChecker interface {
	Registered(subject string, id int) bool
}

type checkerHolder struct{ c SchemaChecker }

// SetSchemaChecker installs the schema registry used by topics with schema
// validation on.
func (s *Server) SetSchemaChecker(c SchemaChecker) { s.schemas.Store(&checkerHolder{c}) }

// Bits of Topic.validation.
const (
	validateKeys uint32 = 1 << iota
	validateValues
)

func validationFlags(overrides map[string]string) uint32 {
	var f uint32
	if overrides["confluent.key.schema.validation"] == "true" {
		f |= validateKeys
	}
	if overrides["confluent.value.schema.validation"] == "true" {
		f |= validateValues
	}
	return f
}

// checkSchemas validates a batch for topic t (flags from t.validation).
func (s *Server) checkSchemas(t *Topic, flags uint32, batch []byte) error {
	h := s.schemas.Load()
	if h == nil || h.c == nil {
		return fmt.Errorf("%w: topic %s has schema validation on but no schema registry runs in this broker", storage.ErrInvalidRecord, t.Name)
	}
	var bad error
	err := storage.ForEachRecord(batch, func(r storage.Record, _ int64) {
		if bad != nil {
			return
		}
		if flags&validateKeys != 0 && !r.KeyNull {
			bad = checkWire(h.c, t.Name+"-key", "key", r.Key)
		}
		if bad == nil && flags&validateValues != 0 && !r.ValueNull {
			bad = checkWire(h.c, t.Name+"-value", "value", r.Value)
		}
	})
	if err != nil {
		return err
	}
	return bad
}

func checkWire(c SchemaChecker, subject, what string, b []byte) error {
	if len(b) < 5 || b[0] != 0 {
		return fmt.Errorf("%w: record %s does not start with a schema id (Confluent wire format) and the topic requires one", storage.ErrInvalidRecord, what)
	}
	id := int(binary.BigEndian.Uint32(b[1:5]))
	if !c.Registered(subject, id) {
		return fmt.Errorf("%w: record %s carries schema id %d, which is not registered under subject %s", storage.ErrInvalidRecord, what, id, subject)
	}
	return nil
}
