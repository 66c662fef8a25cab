// Package txn holds producer ids, idempotence bookkeeping shared across
// partitions, and (later) the transaction coordinator.
package txn

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
)

// idBlock is how many producer ids are reserved per write of the
// high-water file, so allocation rarely touches the disk.
const idBlock = 1000

// ProducerIDs hands out producer ids that are never reused, across
// restarts: the end of the reserved block is persisted before any id from
// it is given out.
type ProducerIDs struct {
	path string

	mu       sync.Mutex
	next     int64
	reserved int64 // ids below this are reserved on disk
}

// OpenProducerIDs loads the allocator state from path (created when missing).
func OpenProducerIDs(path string) (*ProducerIDs, error) {
	p := &ProducerIDs{path: path}
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("producer id file %s: %w", path, err)
		}
		p.next, p.reserved = v, v
	case os.IsNotExist(err):
	default:
		return nil, err
	}
	return p, nil
}

// Next returns a fresh producer id.
func (p *ProducerIDs) Next() (int64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.next >= p.reserved {
		end := p.next + idBlock
		if err := writeSynced(p.path, []byte(strconv.FormatInt(end, 10))); err != nil {
			return 0, fmt.Errorf("reserve producer ids: %w", err)
		}
		p.reserved = end
	}
	id := p.next
	p.next++
	return id, nil
}

func writeSynced(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err = f.Write(b); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
