package topictool

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
)

// FormatHelp documents the template verbs for --format.
const FormatHelp = `%k key, %v value, %p partition, %o offset, %t timestamp (ms since epoch), %% a '%'; \t tab, \n newline, \\ backslash`

// DefaultFormat prints only the value, so `consume` output reads like the
// lines `produce` was given.
const DefaultFormat = "%v"

// A Format renders a record through a small template such as "%k=%v @%o",
// in the spirit of kcat's -f. It is parsed once, then applied per record.
// A missing key prints as nothing.
type Format struct {
	parts []formatPart
}

// formatPart is either literal text (verb 0) or one verb.
type formatPart struct {
	verb byte
	text string
}

// ParseFormat compiles a template; see FormatHelp for the verbs. Unknown
// verbs and escapes are errors rather than printed as-is, so a typo shows at
// once instead of in every output line.
func ParseFormat(s string) (*Format, error) {
	f := &Format{}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			f.parts = append(f.parts, formatPart{text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' && c != '\\' {
			lit.WriteByte(c)
			continue
		}
		if i+1 == len(s) {
			return nil, fmt.Errorf("--format %q: %q at the end needs a letter after it (%s)", s, string(c), FormatHelp)
		}
		i++
		n := s[i]
		switch {
		case c == '%' && n == '%':
			lit.WriteByte('%')
		case c == '%' && strings.IndexByte("kvpot", n) >= 0:
			flush()
			f.parts = append(f.parts, formatPart{verb: n})
		case c == '\\' && n == 't':
			lit.WriteByte('\t')
		case c == '\\' && n == 'n':
			lit.WriteByte('\n')
		case c == '\\' && n == '\\':
			lit.WriteByte('\\')
		default:
			return nil, fmt.Errorf("--format %q: unknown %c%c (%s)", s, c, n, FormatHelp)
		}
	}
	flush()
	return f, nil
}

// Append appends r rendered through f to dst and returns the extended slice.
// It adds no newline; the caller ends each record.
func (f *Format) Append(dst []byte, r *kgo.Record) []byte {
	for _, p := range f.parts {
		switch p.verb {
		case 0:
			dst = append(dst, p.text...)
		case 'k':
			dst = append(dst, r.Key...)
		case 'v':
			dst = append(dst, r.Value...)
		case 'p':
			dst = strconv.AppendInt(dst, int64(r.Partition), 10)
		case 'o':
			dst = strconv.AppendInt(dst, r.Offset, 10)
		case 't':
			dst = strconv.AppendInt(dst, r.Timestamp.UnixMilli(), 10)
		}
	}
	return dst
}
