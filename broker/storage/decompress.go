package storage

// Bounded decompression of record batches. The broker decompresses a
// produced batch to check its records, and a stored one to find a record by
// timestamp. A small batch can claim gigabytes once decompressed (a
// "decompression bomb"), so every codec stops at maxDecompressedBatch and
// the batch is refused as too large. franz-go's default decompressor is
// bounded only at 2 GiB and offers no smaller bound outside a client.

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// maxDecompressedBatch bounds what one batch may decompress to.
const maxDecompressedBatch = 64 << 20

// zstdDecoder is shared: DecodeAll is safe for concurrent use.
var zstdDecoder, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0),
	zstd.WithDecoderMaxMemory(maxDecompressedBatch), zstd.WithDecoderLowmem(true))

var errTooLargeDecompressed = fmt.Errorf("%w: it decompresses to more than %d bytes", ErrBatchTooLarge, maxDecompressedBatch)

// decompress returns the records of a batch compressed with codec (1 gzip,
// 2 snappy, 3 lz4, 4 zstd).
func decompress(src []byte, codec int) ([]byte, error) {
	var r io.Reader
	switch codec {
	case 1:
		zr, err := gzip.NewReader(bytes.NewReader(src))
		if err != nil {
			return nil, err
		}
		r = zr
	case 2:
		return decompressSnappy(src)
	case 3:
		r = lz4.NewReader(bytes.NewReader(src))
	case 4:
		out, err := zstdDecoder.DecodeAll(src, nil)
		if errors.Is(err, zstd.ErrDecoderSizeExceeded) || len(out) > maxDecompressedBatch {
			return nil, errTooLargeDecompressed
		}
		return out, err
	default:
		return nil, fmt.Errorf("unknown compression codec %d", codec)
	}
	var out bytes.Buffer
	n, err := out.ReadFrom(io.LimitReader(r, maxDecompressedBatch+1))
	if err != nil {
		return nil, err
	}
	if n > maxDecompressedBatch {
		return nil, errTooLargeDecompressed
	}
	return out.Bytes(), nil
}

// xerialMagic starts snappy data framed the way the Java client writes it.
var xerialMagic = []byte{130, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

// decompressSnappy decodes a raw snappy block or xerial-framed blocks (a
// 16-byte header, then a big-endian length and a raw block per chunk),
// checking each block's claimed length before it allocates.
func decompressSnappy(src []byte) ([]byte, error) {
	if len(src) < 16 || !bytes.HasPrefix(src, xerialMagic) {
		return decodeSnappyBlock(nil, src)
	}
	var out []byte
	for src = src[16:]; len(src) > 0; {
		if len(src) < 4 {
			return nil, errors.New("malformed xerial snappy framing")
		}
		size := binary.BigEndian.Uint32(src)
		src = src[4:]
		if uint64(size) > uint64(len(src)) {
			return nil, errors.New("malformed xerial snappy framing")
		}
		var err error
		if out, err = decodeSnappyBlock(out, src[:size]); err != nil {
			return nil, err
		}
		src = src[size:]
	}
	return out, nil
}

// decodeSnappyBlock appends one decoded raw snappy block to dst.
func decodeSnappyBlock(dst, block []byte) ([]byte, error) {
	n, err := s2.DecodedLen(block)
	if err != nil {
		return nil, err
	}
	if n > maxDecompressedBatch-len(dst) {
		return nil, errTooLargeDecompressed
	}
	dec, err := s2.Decode(nil, block)
	if err != nil {
		return nil, err
	}
	return append(dst, dec...), nil
}
