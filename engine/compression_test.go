package engine

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestCompressionCodec(t *testing.T) {
	for name, want := range map[string]kgo.CompressionCodec{
		"none": kgo.NoCompression(), "GZIP": kgo.GzipCompression(), "snappy": kgo.SnappyCompression(),
		"lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression(),
	} {
		got, err := compressionCodec(name)
		if err != nil || got != want {
			t.Errorf("compressionCodec(%q) = %v, %v; want %v", name, got, err, want)
		}
	}
	if _, err := compressionCodec("brotli"); err == nil {
		t.Error("compressionCodec(brotli) succeeded")
	}
}
