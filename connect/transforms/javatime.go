package transforms

import (
	"fmt"
	"strings"
	"time"
)

// javaLayout translates a java.text.SimpleDateFormat pattern into a Go time
// layout. Supported letters: y Y M d H h m s S (as fraction after '.' or ','),
// a E D z Z X; text in single quotes is literal. Times are formatted and
// parsed in UTC, as Kafka's TimestampConverter and TimestampRouter do.
func javaLayout(p string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(p); {
		c := p[i]
		if c == '\'' {
			if i+1 < len(p) && p[i+1] == '\'' { // '' is a quote
				b.WriteByte('\'')
				i += 2
				continue
			}
			j := i + 1
			for {
				if j >= len(p) {
					return "", fmt.Errorf("unterminated quote in date format %q", p)
				}
				if p[j] == '\'' {
					if j+1 < len(p) && p[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(p[j])
				j++
			}
			i = j + 1
			continue
		}
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			b.WriteByte(c)
			i++
			continue
		}
		n := 1
		for i+n < len(p) && p[i+n] == c {
			n++
		}
		i += n
		var tok string
		switch c {
		case 'y', 'u', 'Y': // Y (week year) is read as the calendar year
			tok = "2006"
			if n == 2 {
				tok = "06"
			}
		case 'M', 'L':
			tok = map[int]string{1: "1", 2: "01", 3: "Jan"}[n]
			if n >= 4 {
				tok = "January"
			}
		case 'd':
			tok = "2"
			if n >= 2 {
				tok = "02"
			}
		case 'D':
			tok = "002"
		case 'H', 'k':
			tok = "15"
		case 'h', 'K':
			tok = "3"
			if n >= 2 {
				tok = "03"
			}
		case 'm':
			tok = "4"
			if n >= 2 {
				tok = "04"
			}
		case 's':
			tok = "5"
			if n >= 2 {
				tok = "05"
			}
		case 'S':
			s := b.String()
			if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, ",") {
				return "", fmt.Errorf("date format %q: milliseconds (S) are supported only after '.' or ','", p)
			}
			tok = strings.Repeat("0", n)
		case 'a':
			tok = "PM"
		case 'E':
			tok = "Mon"
			if n >= 4 {
				tok = "Monday"
			}
		case 'z':
			tok = "MST"
		case 'Z':
			tok = "-0700"
		case 'X':
			tok = map[int]string{1: "Z07", 2: "Z0700"}[n]
			if n >= 3 {
				tok = "Z07:00"
			}
		default:
			return "", fmt.Errorf("date format %q: pattern letter %q is not supported", p, c)
		}
		b.WriteString(tok)
	}
	return b.String(), nil
}

// javaFormat formats t (in UTC) with a translated layout.
func javaFormat(layout string, t time.Time) string { return t.UTC().Format(layout) }

// javaParse parses s with a translated layout, in UTC.
func javaParse(layout, s string) (time.Time, error) {
	t, err := time.ParseInLocation(layout, s, time.UTC)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}
