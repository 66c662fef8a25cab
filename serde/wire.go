package serde

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Confluent wire format (V0): a magic byte 0, the schema id as a 4-byte
// big-endian integer, for Protobuf the message indexes, then the payload.

// MagicByte opens every record in the Confluent wire format.
const MagicByte = 0

// ErrNoMagic is returned for data that does not start with the magic byte or
// is shorter than the 5-byte header.
var ErrNoMagic = errors.New("serde: not in Schema Registry wire format (no magic byte 0 and 4-byte schema id)")

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
