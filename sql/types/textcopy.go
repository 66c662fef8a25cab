package types

// TextCopy gives the strings decoded from one buffer (a record value, a
// stored row) a single copy of it to share: a string read in place is a
// substring of that copy rather than an allocation of its own, so that a
// row's STRING values cost one allocation together. The copy is made on
// the first string and is a Go string: nothing can change it afterwards,
// whatever becomes of the buffer (a client's record, a pooled slice). The
// price is that a string kept alone keeps the whole copy alive.
//
// The zero value and a nil *TextCopy share nothing: String reports false.
type TextCopy struct {
	src  []byte
	text string
	made bool
}

// TextCopyOf returns a TextCopy of src.
func TextCopyOf(src []byte) TextCopy { return TextCopy{src: src} }

// String returns v, a slice cut from the buffer by reslicing, as a
// substring of the copy. ok is false when v does not lie in the buffer
// (the caller then copies v on its own).
func (c *TextCopy) String(v []byte) (s string, ok bool) {
	if c == nil {
		return "", false
	}
	if len(v) == 0 {
		return "", true
	}
	// v shares the buffer's backing array, so its capacity says where it
	// starts; the pointer comparison confirms it.
	off := cap(c.src) - cap(v)
	if off < 0 || off+len(v) > len(c.src) || &c.src[off] != &v[0] {
		return "", false
	}
	if !c.made {
		c.text, c.made = string(c.src), true
	}
	return c.text[off : off+len(v)], true
}
