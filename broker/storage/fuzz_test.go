package storage

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"hash/crc32"
	"testing"
)

// FuzzValidateBatch checks that ValidateBatch and ForEachRecord never
// panic on arbitrary bytes, and that a batch ValidateBatch accepts can be
// walked record by record with the count its header claims.
func FuzzValidateBatch(f *testing.F) {
	f.Add(testBatch{values: []string{"a", "bb", "ccc"}}.encode())
	f.Add(testBatch{values: []string{"x"}, pid: 5, epoch: 1, seq: 9}.encode())
	f.Add(testBatch{values: []string{"n1", "n2"}, nullKeys: true}.encode())
	f.Add(gzipBatch(testBatch{values: []string{"g1", "g2"}}.encode()))
	f.Add([]byte{})
	f.Add(make([]byte, BatchHeaderSize))

	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ValidateBatch(b)
		n := 0
		ferr := ForEachRecord(b, func(Record, int64) { n++ })
		if err != nil || h.Compression() != 0 {
			return
		}
		if ferr != nil {
			t.Fatalf("ValidateBatch accepted a batch ForEachRecord refuses: %v", ferr)
		}
		if n != int(h.NumRecords) {
			t.Fatalf("header says %d records, walked %d", h.NumRecords, n)
		}
		if err := checkKeyed(b, &h); err != nil && !bytesHaveNullKey(b) {
			t.Fatalf("checkKeyed: %v", err)
		}
	})
}

func bytesHaveNullKey(b []byte) bool {
	null := false
	ForEachRecord(b, func(r Record, _ int64) { null = null || r.KeyNull })
	return null
}

// gzipBatch recompresses an uncompressed batch's records with gzip.
func gzipBatch(b []byte) []byte {
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write(b[BatchHeaderSize:])
	zw.Close()
	out := append(append([]byte(nil), b[:BatchHeaderSize]...), zb.Bytes()...)
	binary.BigEndian.PutUint16(out[offAttributes:], binary.BigEndian.Uint16(out[offAttributes:])|1)
	binary.BigEndian.PutUint32(out[offBatchLength:], uint32(len(out)-logOverhead))
	binary.BigEndian.PutUint32(out[offCRC:], crc32.Checksum(out[offAttributes:], castagnoli))
	return out
}
