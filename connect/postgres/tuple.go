package postgres

import (
	"encoding/binary"
	"fmt"
)

// Reading pgoutput's Insert, Update and Delete messages (protocol 1):
//
//	Insert: 'I' relid:u32 'N' tuple
//	Update: 'U' relid:u32 [('K'|'O') tuple] 'N' tuple
//	Delete: 'D' relid:u32 ('K'|'O') tuple
//	tuple:  ncols:u16 { 'n' | 'u' | ('t'|'b') len:u32 bytes }
//
// pglogrepl allocates a column struct and a copy of its bytes for every
// column; these are the hot messages of a busy stream, so they are read
// here with one copy of the message (the receive buffer is reused by the
// next read) that every column's bytes point into.

// rowChange is a decoded Insert, Update or Delete.
type rowChange struct {
	relID     uint32
	op        string // "c", "u" or "d"
	oldKind   byte   // 'K' (key columns), 'O' (whole old row) or 0
	old, new_ []tupleCol
}

// parseRowChange reads an Insert, Update or Delete message.
func parseRowChange(msg []byte) (rowChange, error) {
	var rc rowChange
	if len(msg) < 6 {
		return rc, fmt.Errorf("%c message of %d bytes is too short", msg[0], len(msg))
	}
	data := make([]byte, len(msg)-5)
	copy(data, msg[5:])
	rc.relID = binary.BigEndian.Uint32(msg[1:5])
	p := tupleReader{b: data}
	var err error
	switch msg[0] {
	case 'I':
		rc.op = "c"
		if k := p.byte(); k != 'N' {
			return rc, fmt.Errorf("insert: tuple kind %q, want 'N'", k)
		}
		rc.new_, err = p.tuple()
	case 'U':
		rc.op = "u"
		k := p.byte()
		if k == 'K' || k == 'O' {
			rc.oldKind = k
			if rc.old, err = p.tuple(); err != nil {
				return rc, err
			}
			k = p.byte()
		}
		if k != 'N' {
			return rc, fmt.Errorf("update: tuple kind %q, want 'K', 'O' or 'N'", k)
		}
		rc.new_, err = p.tuple()
	case 'D':
		rc.op = "d"
		k := p.byte()
		if k != 'K' && k != 'O' {
			return rc, fmt.Errorf("delete: tuple kind %q, want 'K' or 'O'", k)
		}
		rc.oldKind = k
		rc.old, err = p.tuple()
	default:
		return rc, fmt.Errorf("message type %q is not a row change", msg[0])
	}
	if err == nil && p.err != nil {
		err = p.err
	}
	return rc, err
}

// tupleReader reads a message body; a read past its end sets err.
type tupleReader struct {
	b   []byte
	off int
	err error
}

func (r *tupleReader) need(n int) bool {
	if r.err == nil && len(r.b)-r.off < n {
		r.err = fmt.Errorf("message ends at byte %d, %d more bytes expected", len(r.b), n)
	}
	return r.err == nil
}

func (r *tupleReader) byte() byte {
	if !r.need(1) {
		return 0
	}
	r.off++
	return r.b[r.off-1]
}

func (r *tupleReader) tuple() ([]tupleCol, error) {
	if !r.need(2) {
		return nil, r.err
	}
	n := int(binary.BigEndian.Uint16(r.b[r.off:]))
	r.off += 2
	cols := make([]tupleCol, n)
	for i := range cols {
		switch kind := r.byte(); kind {
		case 'n':
			cols[i].null = true
		case 'u':
			cols[i].unchanged = true
		case 't', 'b':
			if !r.need(4) {
				return nil, r.err
			}
			l := int(binary.BigEndian.Uint32(r.b[r.off:]))
			r.off += 4
			if !r.need(l) {
				return nil, r.err
			}
			cols[i].data = r.b[r.off : r.off+l : r.off+l]
			r.off += l
		default:
			if r.err != nil {
				return nil, r.err
			}
			return nil, fmt.Errorf("column %d: unknown tuple data kind %q", i+1, kind)
		}
	}
	return cols, nil
}
