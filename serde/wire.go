package serde

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Confluent wire format (V0): a magic byte 0, the schema id as a 4-byte
// big-endian integer, for Protobuf the message indexes, then the payload.

// MagicByte opens every record in the Confluent wire format.
const MagicByte = 0

// ErrNoMagic is returned for data that does not start with the magic byte or
// is shorter than the 5-byte header.
var ErrNoMagic = errors.New("serde: not in Schema Registry wire format (no magic byte 0 and 4-byte schema id, nor magic byte 1 and 16-byte GUID)")

// AppendHeader appends the magic byte and schema id to dst.
func AppendHeader(dst []byte, id int) []byte {
	return binary.BigEndian.AppendUint32(append(dst, MagicByte), uint32(id))
}

// SplitHeader returns the schema id of b and the bytes after the header.
func SplitHeader(b []byte) (id int, payload []byte, err error) {
	if len(b) < 5 || b[0] != MagicByte {
		return 0, nil, ErrNoMagic
	}
	return int(int32(binary.BigEndian.Uint32(b[1:5]))), b[5:], nil
}

// AppendMessageIndexes appends Protobuf message indexes: the path of the
// message type inside its .proto file (top-level index, then nested indexes)
// as zig-zag varints preceded by their count. The path [0] is written as the
// single byte 0.
func AppendMessageIndexes(dst []byte, path []int) []byte {
	if len(path) == 1 && path[0] == 0 {
		return append(dst, 0)
	}
	dst = binary.AppendVarint(dst, int64(len(path)))
	for _, i := range path {
		dst = binary.AppendVarint(dst, int64(i))
	}
	return dst
}

// ReadMessageIndexes reads message indexes from the start of b and returns
// the path (a count of 0 means [0]) and the remaining bytes.
func ReadMessageIndexes(b []byte) (path []int, rest []byte, err error) {
	n, k := binary.Varint(b)
	if k <= 0 {
		return nil, nil, errors.New("serde: truncated message indexes")
	}
	b = b[k:]
	if n == 0 {
		return []int{0}, b, nil
	}
	if n < 0 || n > int64(len(b)) {
		return nil, nil, fmt.Errorf("serde: invalid message index count %d", n)
	}
	path = make([]int, n)
	for i := range path {
		v, k := binary.Varint(b)
		if k <= 0 || v < 0 {
			return nil, nil, errors.New("serde: invalid message index")
		}
		path[i], b = int(v), b[k:]
	}
	return path, b, nil
}

// SubjectNameStrategy names the registry subject of a record's schema from
// the topic, whether it is the key, and the schema's fully-qualified record
// name.
type SubjectNameStrategy func(topic string, key bool, recordName string) string

// TopicName is the default strategy: <topic>-key or <topic>-value.
func TopicName(topic string, key bool, _ string) string {
	if key {
		return topic + "-key"
	}
	return topic + "-value"
}

// RecordName uses the fully-qualified record name.
func RecordName(_ string, _ bool, recordName string) string { return recordName }

// TopicRecordName is <topic>-<fully-qualified record name>.
func TopicRecordName(topic string, _ bool, recordName string) string {
	return topic + "-" + recordName
}

// Confluent wire format V1 and header ids: a magic byte 1 and the schema's
// 16-byte GUID (most significant 64 bits first) instead of the 4-byte id.
// Newer serializers may put that V1 prefix (with Protobuf message indexes)
// in a record header, __key_schema_id or __value_schema_id, and leave the
// record body as the bare payload. Deserializers look at the header first,
// then at the body's prefix.
const (
	MagicByteV1         = 1
	KeySchemaIDHeader   = "__key_schema_id"
	ValueSchemaIDHeader = "__value_schema_id"
)

// SchemaID names a schema by integer id (V0) or by GUID (V1).
type SchemaID struct {
	ID   int
	GUID [16]byte
	V1   bool
}

// ParseGUID reads a GUID in its text form (8-4-4-4-12 hex digits).
func ParseGUID(s string) ([16]byte, error) {
	var g [16]byte
	h := strings.ReplaceAll(s, "-", "")
	if len(h) != 32 || len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return g, fmt.Errorf("serde: %q is not a GUID", s)
	}
	if _, err := hex.Decode(g[:], []byte(h)); err != nil {
		return g, fmt.Errorf("serde: %q is not a GUID", s)
	}
	return g, nil
}

// GUIDString formats a GUID as 8-4-4-4-12 lowercase hex digits.
func GUIDString(g [16]byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", g[0:4], g[4:6], g[6:8], g[8:10], g[10:16])
}

// AppendHeaderV1 appends the magic byte 1 and the GUID to dst.
func AppendHeaderV1(dst []byte, guid [16]byte) []byte {
	return append(append(dst, MagicByteV1), guid[:]...)
}

// SplitSchemaID reads a V0 (magic 0, 4-byte id) or V1 (magic 1, 16-byte
// GUID) prefix and returns the bytes after it.
func SplitSchemaID(b []byte) (SchemaID, []byte, error) {
	switch {
	case len(b) >= 5 && b[0] == MagicByte:
		return SchemaID{ID: int(int32(binary.BigEndian.Uint32(b[1:5])))}, b[5:], nil
	case len(b) >= 17 && b[0] == MagicByteV1:
		var s SchemaID
		s.V1 = true
		copy(s.GUID[:], b[1:17])
		return s, b[17:], nil
	}
	return SchemaID{}, nil, ErrNoMagic
}

// SchemaIDHeader is the name of the header holding the schema id of a
// record's key (key=true) or value.
func SchemaIDHeader(key bool) string {
	if key {
		return KeySchemaIDHeader
	}
	return ValueSchemaIDHeader
}
