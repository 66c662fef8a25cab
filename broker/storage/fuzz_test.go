package storage

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// FuzzValidateBatch checks that ValidateBatch, ForEachRecord and
// checkRecords never panic on arbitrary bytes, and that they agree: a batch
// ValidateBatch accepts walks record by record with the count its header
// claims. Random bytes rarely carry a valid CRC, so each input is also
// tried with its length and CRC fixed up, which lets the fuzzer reach the
// record parsing and (bounded) decompression behind the CRC check.
func FuzzValidateBatch(f *testing.F) {
	plain := testBatch{values: []string{"a", "bb", "ccc"}}.encode()
	f.Add(plain)
	f.Add(testBatch{values: []string{"x"}, pid: 5, epoch: 1, seq: 9}.encode())
	f.Add(testBatch{values: []string{"n1", "n2"}, nullKeys: true}.encode())
	for _, codec := range []kgo.CompressionCodec{kgo.GzipCompression(), kgo.SnappyCompression(), kgo.Lz4Compression(), kgo.ZstdCompression()} {
		f.Add(compressBatch(plain, codec))
	}
	f.Add([]byte{})
	f.Add(make([]byte, BatchHeaderSize))

	f.Fuzz(func(t *testing.T, b []byte) {
		checkBatch(t, b)
		if len(b) >= BatchHeaderSize {
			fixed := append([]byte(nil), b...)
			fixFraming(fixed)
			checkBatch(t, fixed)
		}
	})
}

func checkBatch(t *testing.T, b []byte) {
	h, err := ValidateBatch(b)
	n := 0
	ferr := ForEachRecord(b, func(Record, int64) { n++ })
	if err != nil {
		return
	}
	cerr := checkRecords(b, &h, false)
	if h.Compression() != 0 {
		return // ValidateBatch does not look inside compressed batches
	}
	if ferr != nil || cerr != nil {
		t.Fatalf("ValidateBatch accepted a batch that ForEachRecord (%v) or checkRecords (%v) refuses", ferr, cerr)
	}
	if n != int(h.NumRecords) {
		t.Fatalf("header says %d records, walked %d", h.NumRecords, n)
	}
}

// fixFraming sets a batch's length and CRC to match its bytes.
func fixFraming(b []byte) {
	binary.BigEndian.PutUint32(b[offBatchLength:], uint32(len(b)-logOverhead))
	binary.BigEndian.PutUint32(b[offCRC:], crc32.Checksum(b[offAttributes:], castagnoli))
}

// compressBatch recompresses an uncompressed batch's records with codec.
func compressBatch(b []byte, codec kgo.CompressionCodec) []byte {
	c, err := kgo.DefaultCompressor(codec)
	if err != nil {
		panic(err)
	}
	var buf bytes.Buffer
	z, typ := c.Compress(&buf, b[BatchHeaderSize:])
	out := append(append([]byte(nil), b[:BatchHeaderSize]...), z...)
	binary.BigEndian.PutUint16(out[offAttributes:], binary.BigEndian.Uint16(out[offAttributes:])|uint16(typ))
	fixFraming(out)
	return out
}
