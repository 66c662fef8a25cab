package funcs

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/sluicedata/sluice/sql/types"
)

// Strings are indexed by Unicode code points (ksqlDB, on Java, counts UTF-16
// units; the two differ only for characters outside the BMP).

func stringFunctions() []Function {
	str1 := func(name, desc string, f func(string) string) Function {
		return fn(name, CatString, desc, V(PString, strict(func(a []types.Value) (types.Value, error) {
			return f(a[0].(string)), nil
		}), P("input", PString)))
	}
	return []Function{
		fn("CHR", CatString, "Returns the single-character string of a Unicode code point, given as a decimal code or a '\\uXXXX' string; NULL for an invalid code point.",
			V(PString, strict(func(a []types.Value) (types.Value, error) { return chr(int64(a[0].(int32))), nil }), P("decimalCode", PInt)),
			V(PString, strict(func(a []types.Value) (types.Value, error) {
				s := a[0].(string)
				if len(s) < 6 || !strings.HasPrefix(s, "\\u") {
					return nil, nil
				}
				return unescapeUnicode(s), nil
			}), P("utf", PString)),
		),
		fn("CONCAT", CatString, "Concatenates strings or bytes; NULL inputs count as empty.",
			VV(PString, lenient(func(a []types.Value) (types.Value, error) {
				var b strings.Builder
				for _, v := range a {
					if v != nil {
						b.WriteString(v.(string))
					}
				}
				return b.String(), nil
			}), P("inputs", PString)),
			VV(PBytes, lenient(func(a []types.Value) (types.Value, error) {
				out := []byte{}
				for _, v := range a {
					if v != nil {
						out = append(out, v.([]byte)...)
					}
				}
				return out, nil
			}), P("inputs", PBytes)),
		),
		fn("CONCAT_WS", CatString, "Concatenates strings or bytes with a separator between them, skipping NULL inputs; NULL when the separator is NULL.",
			VV(PString, lenient(func(a []types.Value) (types.Value, error) {
				if a[0] == nil {
					return nil, nil
				}
				var parts []string
				for _, v := range a[1:] {
					if v != nil {
						parts = append(parts, v.(string))
					}
				}
				return strings.Join(parts, a[0].(string)), nil
			}), P("separator", PString), P("inputs", PString)),
			VV(PBytes, lenient(func(a []types.Value) (types.Value, error) {
				if a[0] == nil {
					return nil, nil
				}
				var parts [][]byte
				for _, v := range a[1:] {
					if v != nil {
						parts = append(parts, v.([]byte))
					}
				}
				return append([]byte{}, bytes.Join(parts, a[0].([]byte))...), nil
			}), P("separator", PBytes), P("inputs", PBytes)),
		),
		fn("ELT", CatString, "Returns element n (1-based) of the arguments after n; NULL when n is out of range.",
			VV(PString, lenient(func(a []types.Value) (types.Value, error) {
				if a[0] == nil {
					return nil, nil
				}
				n := int(a[0].(int32))
				if n < 1 || n >= len(a) {
					return nil, nil
				}
				return a[n], nil
			}), P("n", PInt), P("args", PString)),
		),
		fn("ENCODE", CatString, "Re-encodes a string from one encoding to another; encodings are hex, utf8, ascii and base64.",
			V(PString, strict(func(a []types.Value) (types.Value, error) {
				if strings.EqualFold(a[1].(string), a[2].(string)) {
					return nil, badEncoding(a[1].(string) + " to " + a[2].(string))
				}
				b, err := decodeText(a[0].(string), a[1].(string))
				if err != nil {
					return nil, err
				}
				return encodeText(b, a[2].(string))
			}), P("input", PString), P("inputEncoding", PString), P("outputEncoding", PString))),
		fn("FIELD", CatString, "Returns the 1-based position of str in the arguments after it, or 0 when absent (NULL never matches).",
			VV(PInt, lenient(func(a []types.Value) (types.Value, error) {
				if a[0] == nil {
					return int32(0), nil
				}
				for i, v := range a[1:] {
					if v != nil && v.(string) == a[0].(string) {
						return int32(i + 1), nil
					}
				}
				return int32(0), nil
			}), P("str", PString), P("args", PString))),
		fn("FROM_BYTES", CatString, "Converts BYTES to a STRING in the given encoding: hex, utf8, ascii or base64.",
			V(PString, strict(func(a []types.Value) (types.Value, error) {
				return encodeText(a[0].([]byte), a[1].(string))
			}), P("bytes", PBytes), P("encoding", PString))),
		str1("INITCAP", "Capitalizes the first letter of each whitespace-delimited word and lower-cases the others.", initcap),
		fn("INSTR", CatString, "Returns the 1-based position of substring in string, from position (negative: searching backwards from the end) and for the given occurrence; 0 when not found.",
			V(PInt, lenient(func(a []types.Value) (types.Value, error) { return instr(a[0], a[1], int32(1), int32(1)), nil }), P("string", PString), P("substring", PString)),
			V(PInt, lenient(func(a []types.Value) (types.Value, error) { return instr(a[0], a[1], a[2], int32(1)), nil }), P("string", PString), P("substring", PString), P("position", PInt)),
			V(PInt, lenient(func(a []types.Value) (types.Value, error) { return instr(a[0], a[1], a[2], a[3]), nil }), P("string", PString), P("substring", PString), P("position", PInt), P("occurrence", PInt)),
		),
		str1("LCASE", "Converts a string to lower case.", strings.ToLower),
		fn("LEN", CatString, "Returns the length of a string in characters or of bytes in bytes.",
			V(PInt, strict(func(a []types.Value) (types.Value, error) { return int32(utf8.RuneCountInString(a[0].(string))), nil }), P("input", PString)),
			V(PInt, strict(func(a []types.Value) (types.Value, error) { return int32(len(a[0].([]byte))), nil }), P("input", PBytes)),
		),
		fn("LPAD", CatString, "Pads input on the left with padding up to length, or truncates it to length; NULL when padding is empty or length negative.", padVariants(true)...),
		maskFn("MASK", "Masks upper-case letters, lower-case letters, digits and other characters (defaults X, x, n, -); a NULL mask leaves that class as is.", maskAll),
		maskFn("MASK_KEEP_LEFT", "Masks all but the first numChars characters, as MASK does.", maskKeepLeft),
		maskFn("MASK_KEEP_RIGHT", "Masks all but the last numChars characters, as MASK does.", maskKeepRight),
		maskFn("MASK_LEFT", "Masks the first numChars characters, as MASK does.", maskLeft),
		maskFn("MASK_RIGHT", "Masks the last numChars characters, as MASK does.", maskRight),
		str1("MD5", "Returns the MD5 hash of a string's UTF-8 bytes as 32 lower-case hex digits.", func(s string) string {
			h := md5.Sum([]byte(s))
			return hex.EncodeToString(h[:])
		}),
		fn("REPLACE", CatString, "Replaces every occurrence of a substring with another string.",
			V(PString, strict(func(a []types.Value) (types.Value, error) {
				return strings.ReplaceAll(a[0].(string), a[1].(string), a[2].(string)), nil
			}), P("input", PString), P("target", PString), P("replacement", PString))),
		fn("RPAD", CatString, "Pads input on the right with padding up to length, or truncates it to length; NULL when padding is empty or length negative.", padVariants(false)...),
		fn("SPLIT", CatString, "Splits a string or bytes on a delimiter, keeping empty parts; an empty delimiter splits every character or byte.",
			V(ArrayP(PString), strict(func(a []types.Value) (types.Value, error) {
				parts := strings.Split(a[0].(string), a[1].(string))
				out := make([]types.Value, len(parts))
				for i, p := range parts {
					out[i] = p
				}
				return out, nil
			}), P("input", PString), P("delimiter", PString)),
			V(ArrayP(PBytes), strict(func(a []types.Value) (types.Value, error) {
				in, d := a[0].([]byte), a[1].([]byte)
				var out []types.Value
				if len(d) == 0 {
					for _, c := range in {
						out = append(out, []byte{c})
					}
					return orEmpty(out), nil
				}
				for _, p := range bytes.Split(in, d) {
					out = append(out, append([]byte{}, p...))
				}
				return out, nil
			}), P("input", PBytes), P("delimiter", PBytes)),
		),
		fn("SPLIT_TO_MAP", CatString, "Splits a string into entries on entryDelimiter and each entry into key and value on kvDelimiter; later keys win. NULL when a delimiter is NULL or empty, or both are equal.",
			V(MapP(PString), lenient(func(a []types.Value) (types.Value, error) {
				if a[0] == nil || a[1] == nil || a[2] == nil || a[1] == "" || a[2] == "" || a[1] == a[2] {
					return nil, nil
				}
				out := map[string]types.Value{}
				for _, e := range strings.Split(a[0].(string), a[1].(string)) {
					// Entries without kvDelimiter are skipped; text after a
					// second kvDelimiter is dropped.
					if kv := strings.Split(e, a[2].(string)); len(kv) >= 2 {
						out[kv[0]] = kv[1]
					}
				}
				return out, nil
			}), P("input", PString), P("entryDelimiter", PString), P("kvDelimiter", PString))),
		fn("SUBSTRING", CatString, "Returns the part of a string or bytes from pos (1-based; negative counts from the end) of length len, or to the end.",
			V(PString, strict(func(a []types.Value) (types.Value, error) { return substring(a[0].(string), a[1].(int32), toEnd), nil }), P("str", PString), P("pos", PInt)),
			V(PString, strict(func(a []types.Value) (types.Value, error) {
				return substring(a[0].(string), a[1].(int32), int64(a[2].(int32))), nil
			}), P("str", PString), P("pos", PInt), P("len", PInt)),
			V(PBytes, strict(func(a []types.Value) (types.Value, error) { return subBytes(a[0].([]byte), a[1].(int32), toEnd), nil }), P("bytes", PBytes), P("pos", PInt)),
			V(PBytes, strict(func(a []types.Value) (types.Value, error) {
				return subBytes(a[0].([]byte), a[1].(int32), int64(a[2].(int32))), nil
			}), P("bytes", PBytes), P("pos", PInt), P("len", PInt)),
		),
		fn("TO_BYTES", CatString, "Converts a STRING in the given encoding (hex, utf8, ascii or base64) to BYTES.",
			V(PBytes, strict(func(a []types.Value) (types.Value, error) {
				return decodeText(a[0].(string), a[1].(string))
			}), P("string", PString), P("encoding", PString))),
		str1("TRIM", "Removes spaces and control characters from both ends of a string.", func(s string) string {
			return strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
		}),
		str1("UCASE", "Converts a string to upper case.", strings.ToUpper),
		fn("UUID", CatString, "Returns a random (version 4) UUID string.",
			V(PString, lenient(func([]types.Value) (types.Value, error) { return newUUID(), nil }))),
	}
}

// javaSpace is the set of Java's regex \s.
const javaSpace = " \t\n\x0b\f\r"

// unescapeUnicode decodes the \uXXXX escapes of s (pairing surrogates) and
// keeps everything else as written.
func unescapeUnicode(s string) string {
	var units []uint16
	var b strings.Builder
	flush := func() {
		b.WriteString(string(utf16.Decode(units)))
		units = units[:0]
	}
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], "\\u") && i+6 <= len(s) {
			if n, err := strconv.ParseUint(s[i+2:i+6], 16, 16); err == nil {
				units = append(units, uint16(n))
				i += 6
				continue
			}
		}
		flush()
		r, size := utf8.DecodeRuneInString(s[i:])
		b.WriteRune(r)
		i += size
	}
	flush()
	return b.String()
}

func orEmpty(v []types.Value) []types.Value {
	if v == nil {
		return []types.Value{}
	}
	return v
}

func chr(code int64) types.Value {
	if code < 0 || code > unicode.MaxRune || code >= 0xD800 && code <= 0xDFFF {
		return nil
	}
	return string(rune(code))
}

// initcap follows ksqlDB: words are runs of non-whitespace (Java's \s)
// with the whitespace after them; whitespace before the first word is
// dropped.
func initcap(s string) string {
	var b strings.Builder
	start := true
	s = strings.TrimLeft(s, javaSpace)
	for _, r := range s {
		switch {
		case strings.ContainsRune(javaSpace, r):
			start = true
			b.WriteRune(r)
		case start:
			b.WriteRune(unicode.ToUpper(r))
			start = false
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// instr follows ksqlDB: NULL string or substring give 0, a NULL position or
// occurrence NULL; a negative position searches the reversed string.
func instr(str, sub, pos, occ types.Value) types.Value {
	if pos == nil || occ == nil {
		return nil
	}
	if str == nil || sub == nil {
		return int32(0)
	}
	s, t := []rune(str.(string)), []rune(sub.(string))
	p, n := int(pos.(int32)), int(occ.(int32))
	if abs(p) > len(s) {
		return int32(0)
	}
	reversed := p < 0
	if reversed {
		s, t, p = reverseRunes(s), reverseRunes(t), -p
	}
	start := p - 1
	if start < 0 {
		start = max(len(s)+start, 0)
	}
	i := ordinalIndex(s[start:], t, n)
	if i < 0 {
		return int32(0)
	}
	if reversed {
		return int32(len(s) - p - i)
	}
	return int32(i + p)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func reverseRunes(r []rune) []rune {
	out := make([]rune, len(r))
	for i, c := range r {
		out[len(r)-1-i] = c
	}
	return out
}

// ordinalIndex is the index of the n-th (possibly overlapping) occurrence
// of t in s, or -1.
func ordinalIndex(s, t []rune, n int) int {
	if n <= 0 {
		return -1
	}
	if len(t) == 0 {
		return 0
	}
	found := 0
	for i := 0; i+len(t) <= len(s); i++ {
		if string(s[i:i+len(t)]) == string(t) {
			found++
			if found == n {
				return i
			}
		}
	}
	return -1
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// toEnd is the length of SUBSTRING without one.
const toEnd = math.MinInt64

// substringBounds returns ksqlDB's start and end indexes of pos and length
// in a value of n characters.
func substringBounds(n int, pos int32, length int64) (int, int) {
	var start int
	if pos < 0 {
		start = max(n+int(pos), 0)
	} else {
		start = max(min(int(pos)-1, n), 0)
	}
	if length == toEnd {
		return start, n
	}
	return start, int(max(min(int64(start)+length, int64(n)), int64(start)))
}

func substring(s string, pos int32, length int64) string {
	if isASCII(s) {
		start, end := substringBounds(len(s), pos, length)
		return s[start:end]
	}
	r := []rune(s)
	start, end := substringBounds(len(r), pos, length)
	return string(r[start:end])
}

func subBytes(b []byte, pos int32, length int64) []byte {
	start, end := substringBounds(len(b), pos, length)
	return append([]byte{}, b[start:end]...)
}

// maxPadLength bounds LPAD and RPAD results (in characters or bytes): a
// length typed by mistake must not take the server's memory. It is well
// above Kafka's default maximum record size.
const maxPadLength = 1 << 20

func checkPadLength(n int) error {
	if n > maxPadLength {
		return fmt.Errorf("target length %d exceeds the maximum of %d", n, maxPadLength)
	}
	return nil
}

func padVariants(left bool) []Variant {
	return []Variant{
		V(PString, lenient(func(a []types.Value) (types.Value, error) {
			if a[0] == nil || a[1] == nil || a[2] == nil {
				return nil, nil
			}
			in, pad := []rune(a[0].(string)), []rune(a[2].(string))
			n := int(a[1].(int32))
			if len(pad) == 0 || n < 0 {
				return nil, nil
			}
			if err := checkPadLength(n); err != nil {
				return nil, err
			}
			return string(padRunes(in, pad, n, left)), nil
		}), P("input", PString), P("length", PInt), P("padding", PString)),
		V(PBytes, lenient(func(a []types.Value) (types.Value, error) {
			if a[0] == nil || a[1] == nil || a[2] == nil {
				return nil, nil
			}
			in, pad := a[0].([]byte), a[2].([]byte)
			n := int(a[1].(int32))
			if len(pad) == 0 || n < 0 {
				return nil, nil
			}
			if err := checkPadLength(n); err != nil {
				return nil, err
			}
			return padBytes(in, pad, n, left), nil
		}), P("input", PBytes), P("length", PInt), P("padding", PBytes)),
	}
}

func padRunes(in, pad []rune, n int, left bool) []rune {
	if len(in) >= n {
		return in[:n]
	}
	fill := make([]rune, 0, n-len(in))
	for len(fill) < n-len(in) {
		fill = append(fill, pad[len(fill)%len(pad)])
	}
	if left {
		return append(fill, in...)
	}
	return append(append([]rune{}, in...), fill...)
}

func padBytes(in, pad []byte, n int, left bool) []byte {
	if len(in) >= n {
		return append([]byte{}, in[:n]...)
	}
	fill := make([]byte, 0, n)
	for len(fill) < n-len(in) {
		fill = append(fill, pad[len(fill)%len(pad)])
	}
	if left {
		return append(fill, in...)
	}
	return append(append([]byte{}, in...), fill...)
}

// Masking.

const noMask = -1

type masker struct{ upper, lower, digit, other rune }

func (m masker) mask(r rune) rune {
	var c rune
	switch {
	case unicode.Is(unicode.Lu, r):
		c = m.upper
	case unicode.Is(unicode.Ll, r):
		c = m.lower
	case unicode.Is(unicode.Nd, r):
		c = m.digit
	default:
		c = m.other
	}
	if c == noMask {
		return r
	}
	return c
}

func maskChar(v types.Value) (rune, error) {
	if v == nil {
		return noMask, nil
	}
	s := []rune(v.(string))
	if len(s) != 1 {
		return 0, fmt.Errorf("invalid mask character: must be a single character, but was '%s'", v)
	}
	return s[0], nil
}

// maskRange says which of n characters to mask given numChars.
type maskRange func(i, n, numChars int) bool

func maskAll(int, int, int) bool     { return true }
func maskLeft(i, _, k int) bool      { return i < k }
func maskRight(i, n, k int) bool     { return i >= n-k }
func maskKeepLeft(i, n, k int) bool  { return !maskLeft(i, n, k) }
func maskKeepRight(i, n, k int) bool { return !maskRight(i, n, k) }
func maskFn(name, desc string, r maskRange) Function {
	withCount := name != "MASK"
	run := func(a []types.Value) (types.Value, error) {
		if a[0] == nil {
			return nil, nil
		}
		k, rest := 0, a[1:]
		if withCount {
			if a[1] == nil {
				return nil, nil
			}
			k, rest = int(a[1].(int32)), a[2:]
			if k < 0 {
				return nil, fmt.Errorf("function %s requires a non-negative number of characters to mask or skip", name)
			}
		}
		m := masker{'X', 'x', 'n', '-'}
		if len(rest) == 4 {
			var err error
			for i, dst := range []*rune{&m.upper, &m.lower, &m.digit, &m.other} {
				if *dst, err = maskChar(rest[i]); err != nil {
					return nil, err
				}
			}
		}
		in := []rune(a[0].(string))
		for i, c := range in {
			if r(i, len(in), k) {
				in[i] = m.mask(c)
			}
		}
		return string(in), nil
	}
	base := []Param{P("input", PString)}
	if withCount {
		base = append(base, P("numChars", PInt))
	}
	masks := append(append([]Param{}, base...), P("upper", PString), P("lower", PString), P("digit", PString), P("other", PString))
	return fn(name, CatString, desc, V(PString, lenient(run), base...), V(PString, lenient(run), masks...))
}

// Encodings of TO_BYTES, FROM_BYTES and ENCODE.

func badEncoding(enc string) error {
	return fmt.Errorf("unsupported encoding %q: supported encodings are hex, utf8, ascii and base64", enc)
}

func decodeText(s, enc string) ([]byte, error) {
	switch strings.ToLower(enc) {
	case "hex":
		// ksqlDB accepts 0xAB79 (padded to an even length) and X'AB79'.
		h := s
		switch {
		case strings.HasPrefix(s, "0x"):
			h = s[2:]
			if len(h)%2 == 1 {
				h = "0" + h
			}
		case len(s) >= 3 && (s[0] == 'x' || s[0] == 'X') && s[1] == '\'' && s[len(s)-1] == '\'':
			h = s[2 : len(s)-1]
		}
		b, err := hex.DecodeString(h)
		if err != nil {
			return nil, fmt.Errorf("%q is not hex", s)
		}
		return b, nil
	case "utf8":
		return []byte(s), nil
	case "ascii":
		out := make([]byte, 0, len(s))
		for _, r := range s {
			if r > 127 {
				r = '?'
			}
			out = append(out, byte(r))
		}
		return out, nil
	case "base64":
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not base64", s)
		}
		return b, nil
	}
	return nil, badEncoding(enc)
}

func encodeText(b []byte, enc string) (types.Value, error) {
	switch strings.ToLower(enc) {
	case "hex":
		return hex.EncodeToString(b), nil
	case "utf8":
		return strings.ToValidUTF8(string(b), "\uFFFD"), nil
	case "ascii":
		// Java decodes bytes above 127 as U+FFFD.
		var out strings.Builder
		for _, c := range b {
			if c > 127 {
				out.WriteRune(utf8.RuneError)
			} else {
				out.WriteByte(c)
			}
		}
		return out.String(), nil
	case "base64":
		return base64.StdEncoding.EncodeToString(b), nil
	}
	return nil, badEncoding(enc)
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
