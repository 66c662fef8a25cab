package broker

// Fetch responses carry stored batches without re-encoding them, and
// without the two extra copies kmsg would make (into a []byte per partition,
// then into the response buffer). The response is encoded by kmsg with a
// 16-byte placeholder in place of each partition's records; the writer then
// sends the encoding up to each placeholder's length prefix, a new prefix
// with the real length, and the batches copied straight from the segment
// file (pread into the output buffer, or sendfile: see fetchSendfile).

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net"

	"github.com/twmb/franz-go/pkg/kmsg"
	"golang.org/x/sys/unix"

	"github.com/sluicedata/sluice/broker/storage"
)

const placeholderLen = 16

// splicedFetch is a Fetch response whose record batches live in files.
type splicedFetch struct {
	*kmsg.FetchResponse
	marker [placeholderLen - 2]byte // random per response; 2 bytes index the slice
	slices []storage.Slice
	topics []*topicCounters
}

// placeholder registers a file slice and returns the bytes that stand in
// for it in the kmsg encoding.
func (f *splicedFetch) placeholder(sl storage.Slice, tc *topicCounters) []byte {
	if len(f.slices) == 0 {
		rand.Read(f.marker[:])
	}
	i := len(f.slices)
	f.slices = append(f.slices, sl)
	f.topics = append(f.topics, tc)
	p := make([]byte, 0, placeholderLen)
	p = append(p, f.marker[:]...)
	return binary.BigEndian.AppendUint16(p, uint16(i))
}

// writeSpliced writes the response frame (size, correlation id, header
// tags, body) to w, splicing the file slices in.
func (c *conn) writeSpliced(w *bufio.Writer, corr int32, f *splicedFetch) error {
	body := f.AppendTo(nil)
	flexible := f.IsFlexible()
	oldPrefix := 4
	if flexible {
		oldPrefix = 1 // uvarint(16+1)
	}
	// Locate each placeholder and work out the final size.
	type cut struct{ at, n int }
	cuts := make([]cut, len(f.slices))
	size := 4 + len(body)
	if flexible {
		size++ // response header tags
	}
	from := 0
	for i, sl := range f.slices {
		at := bytes.Index(body[from:], f.marker[:])
		if at < 0 {
			return fmt.Errorf("fetch response: placeholder %d not found", i)
		}
		at += from
		cuts[i] = cut{at: at, n: sl.Len}
		size += sl.Len - placeholderLen + prefixLen(flexible, sl.Len) - oldPrefix
		from = at + placeholderLen
	}
	var hdr [9]byte
	binary.BigEndian.PutUint32(hdr[0:], uint32(size))
	binary.BigEndian.PutUint32(hdr[4:], uint32(corr))
	h := hdr[:8]
	if flexible {
		h = hdr[:9] // hdr[8] is 0: no header tags
	}
	if _, err := w.Write(h); err != nil {
		return err
	}
	from = 0
	for i, ct := range cuts {
		if _, err := w.Write(body[from : ct.at-oldPrefix]); err != nil {
			return err
		}
		if _, err := w.Write(appendPrefix(nil, flexible, ct.n)); err != nil {
			return err
		}
		if err := c.copySlice(w, f.slices[i], f.topics[i]); err != nil {
			return err
		}
		from = ct.at + placeholderLen
	}
	_, err := w.Write(body[from:])
	return err
}

func prefixLen(flexible bool, n int) int {
	return len(appendPrefix(nil, flexible, n))
}

// appendPrefix encodes a (nullable) bytes length: int32, or compact uvarint
// of n+1 for flexible versions.
func appendPrefix(dst []byte, flexible bool, n int) []byte {
	if flexible {
		return binary.AppendUvarint(dst, uint64(n)+1)
	}
	return binary.BigEndian.AppendUint32(dst, uint32(n))
}

// copySlice copies one file slice to the connection: through sendfile when
// enabled and the connection is TCP, else by reading it into w's buffer.
func (c *conn) copySlice(w *bufio.Writer, sl storage.Slice, tc *topicCounters) error {
	tc.bytesOut.Add(float64(sl.Len))
	if tcp, ok := c.nc.(*net.TCPConn); ok && c.s.cfg.FetchSendfile {
		if err := w.Flush(); err != nil {
			return err
		}
		tc.recordsOut.Add(float64(sl.CountRecords()))
		return sendfile(tcp, sl)
	}
	buf := make([]byte, sl.Len)
	if err := sl.ReadAt(buf); err != nil {
		return err
	}
	tc.recordsOut.Add(float64(storage.CountRecords(buf)))
	_, err := w.Write(buf)
	return err
}

// sendfile sends a file range with an explicit offset: Go's own sendfile
// path uses the file's shared position, which concurrent fetches of one
// segment would fight over.
func sendfile(tcp *net.TCPConn, sl storage.Slice) error {
	rc, err := tcp.SyscallConn()
	if err != nil {
		return err
	}
	off, left := sl.Pos, sl.Len
	var serr error
	werr := rc.Write(func(fd uintptr) bool {
		for left > 0 {
			n, err := unix.Sendfile(int(fd), int(sl.File.Fd()), &off, left)
			if n > 0 {
				left -= n
			}
			if err == unix.EAGAIN {
				return false // wait until the socket is writable
			}
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				serr = err
				return true
			}
			if n == 0 {
				serr = fmt.Errorf("sendfile %s: file ended %d bytes early", sl.File.Name(), left)
				return true
			}
		}
		return true
	})
	if werr != nil {
		return werr
	}
	return serr
}
