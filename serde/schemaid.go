package serde

import (
	"context"
	"fmt"

	"github.com/sluicedata/sluice/serde/srclient"
	"github.com/sluicedata/sluice/sql/types"
)

// Header is a Kafka record header.
type Header struct {
	Key   string
	Value []byte
}

// HeaderSerializer is a Serializer that can carry the schema id in a record
// header (AVRO, JSON_SR and PROTOBUF with SchemaIDInHeader set): the caller
// adds the returned headers to the record it produces.
type HeaderSerializer interface {
	Serializer
	// SerializeWithHeaders encodes v and returns the record body and the
	// headers to add to the record (none when the id is in the body).
	SerializeWithHeaders(ctx context.Context, topic string, v types.Value) (body []byte, headers []Header, err error)
}

// HeaderDeserializer is a Deserializer that can find the schema id in a
// record header.
type HeaderDeserializer interface {
	Deserializer
	// DeserializeWithHeaders decodes b; the schema id is taken from the
	// __key_schema_id or __value_schema_id header when there is one, else
	// from b's V0 or V1 prefix.
	DeserializeWithHeaders(ctx context.Context, topic string, headers []Header, b []byte) (types.Value, error)
}

// schemaIDPrefix returns how a record written with schema id carries it: a
// V0 prefix of the body, or (inHeader) a header holding the V1 form, magic
// 1 and the schema's GUID. Protobuf message indexes follow the id in either.
func schemaIDPrefix(ctx context.Context, c *srclient.Client, id int, key, inHeader bool, indexes []int) ([]byte, []Header, error) {
	if !inHeader {
		b := AppendHeader(make([]byte, 0, 64), id)
		if indexes != nil {
			b = AppendMessageIndexes(b, indexes)
		}
		return b, nil, nil
	}
	s, err := c.SchemaByID(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if s.GUID == "" {
		return nil, nil, fmt.Errorf("serde: the registry gave no GUID for schema id %d; schema ids in headers need a registry with GUIDs", id)
	}
	g, err := ParseGUID(s.GUID)
	if err != nil {
		return nil, nil, fmt.Errorf("schema id %d: %w", id, err)
	}
	hv := AppendHeaderV1(make([]byte, 0, 24), g)
	if indexes != nil {
		hv = AppendMessageIndexes(hv, indexes)
	}
	return nil, []Header{{Key: SchemaIDHeader(key), Value: hv}}, nil
}

// located tells where a record's schema id was found.
type located struct {
	id int
	// indexes holds what follows the id in a header (Protobuf message
	// indexes); nil when the id was in the body.
	indexes []byte
	// payload is the body after any id prefix (for an id in the body, it
	// starts with the Protobuf message indexes).
	payload []byte
}

// locateSchemaID finds the schema id of a record: in its id header if it
// has one, else in the body's V0 or V1 prefix. GUIDs are resolved to ids
// through the registry (cached).
func locateSchemaID(ctx context.Context, c *srclient.Client, key bool, headers []Header, b []byte) (located, error) {
	name := SchemaIDHeader(key)
	for i := len(headers) - 1; i >= 0; i-- {
		if headers[i].Key != name {
			continue
		}
		sid, rest, err := SplitSchemaID(headers[i].Value)
		if err != nil {
			return located{}, fmt.Errorf("header %s: %w", name, err)
		}
		id, err := resolveSchemaID(ctx, c, sid)
		if err != nil {
			return located{}, err
		}
		if rest == nil {
			rest = []byte{}
		}
		return located{id: id, indexes: rest, payload: b}, nil
	}
	sid, payload, err := SplitSchemaID(b)
	if err != nil {
		return located{}, err
	}
	id, err := resolveSchemaID(ctx, c, sid)
	return located{id: id, payload: payload}, err
}

func resolveSchemaID(ctx context.Context, c *srclient.Client, sid SchemaID) (int, error) {
	if !sid.V1 {
		return sid.ID, nil
	}
	id, _, err := c.SchemaByGUID(ctx, GUIDString(sid.GUID))
	return id, err
}
