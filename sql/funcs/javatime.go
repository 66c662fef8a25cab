package funcs

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // IANA zones without relying on the host's zoneinfo
)

// This file reads and writes times with Java DateTimeFormatter patterns, as
// ksqlDB's FORMAT_*/PARSE_* and the deprecated *TOSTRING/STRINGTO*
// functions take them: letters y u M L d D E a H h K k m s S n V z O X x Z
// Q G, 'quoted text' ('' for a quote), [optional sections]; other ASCII
// letters are reserved and rejected. Parsing is case-insensitive, and fields
// the pattern lacks default to 1970-01-01T00:00:00.000 (ksqlDB's defaults).

type jfield struct {
	letter rune // 0 for literal text
	count  int
	text   string
	opt    int // +1 opens an optional section, -1 closes it
}

type jformat struct {
	pattern string
	fields  []jfield
}

// hasAny reports whether the pattern uses one of the letters.
func (f *jformat) hasAny(letters string) bool {
	for _, fl := range f.fields {
		if fl.letter != 0 && strings.ContainsRune(letters, fl.letter) {
			return true
		}
	}
	return false
}

const jdateLetters = "yuMLdDEQGeYw"
const jtimeLetters = "aHhKkmsSnAN"

func compileJavaFormat(p string) (*jformat, error) {
	f := &jformat{pattern: p}
	rs := []rune(p)
	depth := 0 // open optional sections; Java closes them at the end
	for i := 0; i < len(rs); {
		c := rs[i]
		switch {
		case c == '\'':
			j := i + 1
			var b strings.Builder
			for {
				if j >= len(rs) {
					return nil, fmt.Errorf("pattern %q: unterminated quote", p)
				}
				if rs[j] == '\'' {
					if j+1 < len(rs) && rs[j+1] == '\'' {
						b.WriteRune('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteRune(rs[j])
				j++
			}
			if j == i+1 {
				b.WriteRune('\'') // '' is a quote
			}
			f.fields = append(f.fields, jfield{text: b.String()})
			i = j + 1
		case c == '[':
			f.fields = append(f.fields, jfield{opt: 1})
			depth++
			i++
		case c == ']':
			if depth == 0 {
				return nil, fmt.Errorf("pattern %q: ] without a previous [", p)
			}
			f.fields = append(f.fields, jfield{opt: -1})
			depth--
			i++
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(rs) && rs[j] == c {
				j++
			}
			n := j - i
			if !strings.ContainsRune("yuMLdDEaHhKkmsSnVzOXxZQGANYwe", c) {
				return nil, fmt.Errorf("pattern %q: unknown pattern letter: %c", p, c)
			}
			if (c == 'V' && n != 2) || (c == 'M' || c == 'L') && n > 5 || c == 'X' && n > 5 || c == 'x' && n > 5 || c == 'Z' && n > 5 || c == 'z' && n > 4 || c == 'a' && n > 1 {
				return nil, fmt.Errorf("pattern %q: too many pattern letters: %c", p, c)
			}
			f.fields = append(f.fields, jfield{letter: c, count: n})
			i = j
		default:
			f.fields = append(f.fields, jfield{text: string(c)})
			i++
		}
	}
	for ; depth > 0; depth-- {
		f.fields = append(f.fields, jfield{opt: -1})
	}
	return f, nil
}

// formatCache compiles each pattern once per call site.
type formatCache struct{ m sync.Map }

func (c *formatCache) get(p string) (*jformat, error) {
	if f, ok := c.m.Load(p); ok {
		return f.(*jformat), nil
	}
	f, err := compileJavaFormat(p)
	if err != nil {
		return nil, err
	}
	c.m.Store(p, f)
	return f, nil
}

var (
	monthsLong = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
	daysLong   = []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
)

// appendPad appends n in decimal, zero-padded to width digits.
func appendPad(b []byte, n int64, width int) []byte {
	if n < 0 {
		b = append(b, '-')
		n = -n
	}
	var digits [20]byte
	d := strconv.AppendInt(digits[:0], n, 10)
	for i := len(d); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, d...)
}

// format writes t (in its location) with the pattern.
func (f *jformat) format(t time.Time) string {
	b := make([]byte, 0, 32)
	year, month, day := t.Date()
	hour, minute, second := t.Clock()
	for _, fl := range f.fields {
		if fl.letter == 0 {
			b = append(b, fl.text...)
			continue
		}
		n := fl.count
		switch fl.letter {
		case 'y', 'u':
			y := int64(year)
			if fl.letter == 'y' && y <= 0 {
				y = 1 - y // year of era
			}
			if n == 2 {
				b = appendPad(b, ((y%100)+100)%100, 2)
			} else {
				b = appendPad(b, y, n)
			}
		case 'M', 'L':
			m := int(month)
			switch n {
			case 1, 2:
				b = appendPad(b, int64(m), n)
			case 3:
				b = append(b, monthsLong[m-1][:3]...)
			case 4:
				b = append(b, monthsLong[m-1]...)
			default:
				b = append(b, monthsLong[m-1][:1]...)
			}
		case 'd':
			b = appendPad(b, int64(day), n)
		case 'D':
			b = appendPad(b, int64(t.YearDay()), n)
		case 'Q':
			q := (int(month)-1)/3 + 1
			switch {
			case n <= 2:
				b = appendPad(b, int64(q), n)
			case n == 3:
				b = append(b, "Q"+strconv.Itoa(q)...)
			default:
				b = append(b, []string{"1st", "2nd", "3rd", "4th"}[q-1]+" quarter"...)
			}
		case 'E':
			d := daysLong[t.Weekday()]
			switch {
			case n <= 3:
				b = append(b, d[:3]...)
			case n == 4:
				b = append(b, d...)
			default:
				b = append(b, d[:1]...)
			}
		case 'Y':
			wy, _ := usWeek(year, month, day, t.Weekday())
			if n == 2 {
				b = appendPad(b, int64(((wy%100)+100)%100), 2)
			} else {
				b = appendPad(b, int64(wy), n)
			}
		case 'w':
			_, w := usWeek(year, month, day, t.Weekday())
			b = appendPad(b, int64(w), n)
		case 'e':
			// Localized day of week; in the US week Sunday is 1.
			if n <= 2 {
				b = appendPad(b, int64(t.Weekday())+1, n)
			} else {
				d := daysLong[t.Weekday()]
				if n == 3 {
					d = d[:3]
				}
				b = append(b, d...)
			}
		case 'G':
			if year > 0 {
				b = append(b, "AD"...)
			} else {
				b = append(b, "BC"...)
			}
		case 'a':
			if hour < 12 {
				b = append(b, "AM"...)
			} else {
				b = append(b, "PM"...)
			}
		case 'H':
			b = appendPad(b, int64(hour), n)
		case 'k':
			h := hour
			if h == 0 {
				h = 24
			}
			b = appendPad(b, int64(h), n)
		case 'K':
			b = appendPad(b, int64(hour%12), n)
		case 'h':
			h := hour % 12
			if h == 0 {
				h = 12
			}
			b = appendPad(b, int64(h), n)
		case 'm':
			b = appendPad(b, int64(minute), n)
		case 's':
			b = appendPad(b, int64(second), n)
		case 'S':
			var frac [9]byte
			ns := t.Nanosecond()
			for i := 8; i >= 0; i-- {
				frac[i] = byte('0' + ns%10)
				ns /= 10
			}
			b = append(b, frac[:min(n, 9)]...)
			for i := 9; i < n; i++ {
				b = append(b, '0')
			}
		case 'n':
			b = appendPad(b, int64(t.Nanosecond()), n)
		case 'A':
			ms := int64(hour)*3600000 + int64(minute)*60000 + int64(second)*1000 + int64(t.Nanosecond()/1e6)
			b = appendPad(b, ms, n)
		case 'N':
			ns := (int64(hour)*3600+int64(minute)*60+int64(second))*1e9 + int64(t.Nanosecond())
			b = appendPad(b, ns, n)
		case 'V':
			b = append(b, zoneID(t.Location())...)
		case 'z':
			if n == 4 {
				b = append(b, zoneID(t.Location())...)
			} else {
				name, _ := t.Zone()
				b = append(b, name...)
			}
		case 'O':
			_, off := t.Zone()
			b = append(b, formatOffsetGMT(off, n == 4)...)
		case 'X', 'x', 'Z':
			_, off := t.Zone()
			b = append(b, formatOffset(fl.letter, n, off)...)
		}
	}
	return string(b)
}

// usWeek returns the week-based year and week of a date as Java computes
// them for the US locale (the server default ksqlDB runs with): weeks start
// on Sunday and week 1 is the one holding January 1.
func usWeek(year int, month time.Month, day int, wd time.Weekday) (int, int) {
	d := time.Date(year, month, day, 0, 0, 0, 0, time.UTC)
	weekStart := d.AddDate(0, 0, -int(wd))
	wy := year
	if next := time.Date(year+1, 1, 1, 0, 0, 0, 0, time.UTC); !weekStart.AddDate(0, 0, 6).Before(next) {
		wy = year + 1
	}
	jan1 := time.Date(wy, 1, 1, 0, 0, 0, 0, time.UTC)
	firstStart := jan1.AddDate(0, 0, -int(jan1.Weekday()))
	return wy, int(weekStart.Sub(firstStart).Hours()/24)/7 + 1
}

func zoneID(l *time.Location) string {
	if l == time.UTC {
		return "UTC"
	}
	return l.String()
}

func formatOffsetGMT(off int, long bool) string {
	if off == 0 {
		return "GMT"
	}
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	h, m := off/3600, off/60%60
	if long {
		return fmt.Sprintf("GMT%s%02d:%02d", sign, h, m)
	}
	if m == 0 {
		return fmt.Sprintf("GMT%s%d", sign, h)
	}
	return fmt.Sprintf("GMT%s%d:%02d", sign, h, m)
}

func formatOffset(letter rune, n, off int) string {
	if off == 0 && (letter == 'X' || letter == 'Z' && n == 5) {
		return "Z"
	}
	if letter == 'Z' {
		switch n {
		case 4:
			return formatOffsetGMT(off, true)
		case 5:
			letter, n = 'X', 3
		default:
			letter, n = 'X', 2
		}
	}
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	h, m := off/3600, off/60%60
	switch n {
	case 1:
		if m == 0 {
			return fmt.Sprintf("%s%02d", sign, h)
		}
		return fmt.Sprintf("%s%02d%02d", sign, h, m)
	case 2, 4:
		return fmt.Sprintf("%s%02d%02d", sign, h, m)
	}
	return fmt.Sprintf("%s%02d:%02d", sign, h, m)
}

// parsed holds the fields read by parse.
type parsed struct {
	year, month, day, doy   int
	hour, hour12, min, sec  int
	nanos                   int
	pm                      int // -1 unknown, 0 AM, 1 PM
	loc                     *time.Location
	hasYear, hasDate, has12 bool
}

type parseState struct {
	s   string
	pos int
}

// parse reads s with the pattern; fields it lacks default to
// 1970-01-01T00:00, the zone to loc.
func (f *jformat) parse(s string, loc *time.Location) (time.Time, error) {
	p := parsed{year: 1970, month: 1, day: 1, pm: -1}
	st := &parseState{s: s}
	if err := f.parseFields(st, f.fields, &p, false); err != nil {
		return time.Time{}, fmt.Errorf("text %q could not be parsed with pattern %q: %w", s, f.pattern, err)
	}
	if st.pos != len(s) {
		return time.Time{}, fmt.Errorf("text %q could not be parsed with pattern %q: unparsed text found at index %d", s, f.pattern, st.pos)
	}
	if p.loc != nil {
		loc = p.loc
	}
	h := p.hour
	if p.has12 {
		h = p.hour12 % 12
		if p.pm == 1 {
			h += 12
		}
	} else if p.pm == 1 && h < 12 {
		h += 12
	}
	if p.doy > 0 {
		t := time.Date(p.year, 1, 1, h, p.min, p.sec, p.nanos, loc).AddDate(0, 0, p.doy-1)
		return t, nil
	}
	if p.month < 1 || p.month > 12 {
		return time.Time{}, fmt.Errorf("text %q: invalid month %d", s, p.month)
	}
	if p.day < 1 || p.day > 31 {
		return time.Time{}, fmt.Errorf("text %q: invalid day of month %d", s, p.day)
	}
	if last := daysIn(p.year, p.month); p.day > last {
		p.day = last // Java's SMART resolver moves 30 February to its last day
	}
	if h > 23 || p.min > 59 || p.sec > 59 {
		return time.Time{}, fmt.Errorf("text %q: invalid time of day", s)
	}
	return time.Date(p.year, time.Month(p.month), p.day, h, p.min, p.sec, p.nanos, loc), nil
}

func daysIn(y, m int) int {
	return time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func (f *jformat) parseFields(st *parseState, fields []jfield, p *parsed, optional bool) error {
	for i := 0; i < len(fields); i++ {
		fl := fields[i]
		if fl.opt == 1 {
			// Find the matching close and try the section.
			depth, j := 1, i+1
			for ; j < len(fields) && depth > 0; j++ {
				depth += fields[j].opt
			}
			inner := fields[i+1 : j-1]
			save, saveP := st.pos, *p
			if err := f.parseFields(st, inner, p, true); err != nil {
				st.pos, *p = save, saveP
			}
			i = j - 1
			continue
		}
		if fl.opt == -1 {
			continue
		}
		if fl.letter == 0 {
			if !hasPrefixFold(st.s[st.pos:], fl.text) {
				return fmt.Errorf("expected %q at index %d", fl.text, st.pos)
			}
			st.pos += len(fl.text)
			continue
		}
		// A numeric field directly followed by another numeric field reads
		// exactly its width (adjacent value parsing).
		adjacent := i+1 < len(fields) && isNumericField(fields[i+1])
		if err := parseField(st, fl, p, adjacent); err != nil {
			return err
		}
	}
	return nil
}

func isNumericField(f jfield) bool {
	switch f.letter {
	case 0:
		return false
	case 'M', 'L', 'Q':
		return f.count <= 2
	}
	return strings.ContainsRune("yudDHhKkmsSnAN", f.letter)
}

func readDigits(st *parseState, minW, maxW int, signed bool) (int, error) {
	start := st.pos
	neg := false
	if signed && st.pos < len(st.s) && (st.s[st.pos] == '-' || st.s[st.pos] == '+') {
		neg = st.s[st.pos] == '-'
		st.pos++
	}
	ds := st.pos
	for st.pos < len(st.s) && st.pos-ds < maxW && st.s[st.pos] >= '0' && st.s[st.pos] <= '9' {
		st.pos++
	}
	if st.pos-ds < minW {
		st.pos = start
		return 0, fmt.Errorf("expected %d digits at index %d", minW, start)
	}
	n, _ := strconv.Atoi(st.s[ds:st.pos])
	if neg {
		n = -n
	}
	return n, nil
}

func parseField(st *parseState, fl jfield, p *parsed, adjacent bool) error {
	n := fl.count
	num := func(maxDefault int) (int, error) {
		if n > 1 || adjacent {
			return readDigits(st, n, n, false)
		}
		return readDigits(st, 1, maxDefault, false)
	}
	var err error
	switch fl.letter {
	case 'y', 'u':
		switch {
		case n == 2:
			var y int
			if y, err = readDigits(st, 2, 2, false); err == nil {
				p.year = 2000 + y
			}
		case adjacent:
			p.year, err = readDigits(st, n, n, false)
		default:
			p.year, err = readDigits(st, n, 10, n >= 4)
		}
	case 'M', 'L':
		if n <= 2 {
			p.month, err = num(2)
		} else {
			var i int
			if i, err = readName(st, monthsLong, n); err == nil {
				p.month = i + 1
			}
		}
	case 'd':
		p.day, err = num(2)
	case 'D':
		p.doy, err = num(3)
	case 'Q':
		if n <= 2 {
			_, err = num(1)
		} else {
			err = fmt.Errorf("parsing quarter names is not supported")
		}
	case 'E':
		_, err = readName(st, daysLong, min(n, 4))
	case 'Y', 'w', 'e':
		err = fmt.Errorf("parsing week-based fields (%c) is not supported; use y, M and d", fl.letter)
	case 'G':
		_, err = readName(st, []string{"AD", "BC"}, 4)
	case 'a':
		var i int
		if i, err = readName(st, []string{"AM", "PM"}, 4); err == nil {
			p.pm = i
		}
	case 'H':
		p.hour, err = num(2)
	case 'k':
		if p.hour, err = num(2); p.hour == 24 {
			p.hour = 0
		}
	case 'K', 'h':
		p.hour12, err = num(2)
		p.has12 = true
	case 'm':
		p.min, err = num(2)
	case 's':
		p.sec, err = num(2)
	case 'S':
		var v int
		start := st.pos
		if v, err = readDigits(st, n, n, false); err == nil {
			w := st.pos - start
			for ; w < 9; w++ {
				v *= 10
			}
			p.nanos = v
		}
	case 'n':
		p.nanos, err = num(9)
	case 'A':
		var ms int
		if ms, err = num(8); err == nil {
			p.hour, p.min, p.sec, p.nanos = ms/3600000, ms/60000%60, ms/1000%60, ms%1000*1e6
		}
	case 'N':
		err = fmt.Errorf("parsing nano-of-day is not supported")
	case 'V', 'z':
		p.loc, err = readZone(st)
	case 'O':
		if !hasPrefixFold(st.s[st.pos:], "GMT") {
			return fmt.Errorf("expected GMT offset at index %d", st.pos)
		}
		st.pos += 3
		p.loc = time.UTC
		if st.pos < len(st.s) && (st.s[st.pos] == '+' || st.s[st.pos] == '-') {
			p.loc, err = readOffset(st, true)
		}
	case 'X', 'x', 'Z':
		if (fl.letter == 'X' || fl.letter == 'Z') && st.pos < len(st.s) && (st.s[st.pos] == 'Z' || st.s[st.pos] == 'z') {
			st.pos++
			p.loc = time.UTC
			return nil
		}
		p.loc, err = readOffset(st, false)
	}
	return err
}

// hasPrefixFold is a case-insensitive HasPrefix that never changes lengths.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func readName(st *parseState, names []string, n int) (int, error) {
	rest := st.s[st.pos:]
	// Full names first, so "May" does not stop "March" short.
	for _, full := range []bool{n == 4, false} {
		for i, name := range names {
			cand := name
			if !full && len(name) > 3 && n < 4 {
				cand = name[:3]
			}
			if hasPrefixFold(rest, cand) {
				st.pos += len(cand)
				return i, nil
			}
		}
	}
	return 0, fmt.Errorf("unknown text at index %d", st.pos)
}

func readOffset(st *parseState, lenient bool) (*time.Location, error) {
	start := st.pos
	if st.pos >= len(st.s) || (st.s[st.pos] != '+' && st.s[st.pos] != '-') {
		return nil, fmt.Errorf("expected offset at index %d", start)
	}
	sign := 1
	if st.s[st.pos] == '-' {
		sign = -1
	}
	st.pos++
	maxH := 2
	h, err := readDigits(st, 1, maxH, false)
	if err != nil || (!lenient && st.pos-start-1 != 2) {
		st.pos = start
		return nil, fmt.Errorf("bad offset at index %d", start)
	}
	m := 0
	if st.pos < len(st.s) && st.s[st.pos] == ':' {
		st.pos++
	}
	if st.pos+1 < len(st.s) && isDigit(st.s[st.pos]) && isDigit(st.s[st.pos+1]) {
		m, _ = strconv.Atoi(st.s[st.pos : st.pos+2])
		st.pos += 2
	}
	return time.FixedZone("", sign*(h*3600+m*60)), nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func readZone(st *parseState) (*time.Location, error) {
	end := st.pos
	for end < len(st.s) {
		c := st.s[end]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '/' || c == '_' || c == '+' || c == '-' || c == ':' || isDigit(c) {
			end++
			continue
		}
		break
	}
	// Longest prefix that is a zone.
	for e := end; e > st.pos; e-- {
		if loc, err := loadZone(st.s[st.pos:e]); err == nil {
			st.pos = e
			return loc, nil
		}
	}
	return nil, fmt.Errorf("unknown time zone at index %d", st.pos)
}

// javaShortIDs are java.time.ZoneId.SHORT_IDS, which ksqlDB accepts.
var javaShortIDs = map[string]string{
	"ACT": "Australia/Darwin", "AET": "Australia/Sydney", "AGT": "America/Argentina/Buenos_Aires",
	"ART": "Africa/Cairo", "AST": "America/Anchorage", "BET": "America/Sao_Paulo", "BST": "Asia/Dhaka",
	"CAT": "Africa/Harare", "CNT": "America/St_Johns", "CST": "America/Chicago", "CTT": "Asia/Shanghai",
	"EAT": "Africa/Addis_Ababa", "ECT": "Europe/Paris", "IET": "America/Indiana/Indianapolis",
	"IST": "Asia/Kolkata", "JST": "Asia/Tokyo", "MIT": "Pacific/Apia", "NET": "Asia/Yerevan",
	"NST": "Pacific/Auckland", "PLT": "Asia/Karachi", "PNT": "America/Phoenix", "PRT": "America/Puerto_Rico",
	"PST": "America/Los_Angeles", "SST": "Pacific/Guadalcanal", "VST": "Asia/Ho_Chi_Minh",
	"EST": "-05:00", "MST": "-07:00", "HST": "-10:00",
}

// loadZone resolves a java.util.TimeZone / ZoneId name: IANA IDs, UTC, GMT,
// Z, offsets (+05:30, GMT+5, UTC-08:00) and Java's short IDs.
func loadZone(name string) (*time.Location, error) {
	if id, ok := javaShortIDs[name]; ok {
		name = id
	}
	switch name {
	case "UTC", "GMT", "Z", "UT":
		return time.UTC, nil
	}
	for _, prefix := range []string{"UTC", "GMT", "UT", ""} {
		rest, ok := strings.CutPrefix(name, prefix)
		if ok && rest != "" && (rest[0] == '+' || rest[0] == '-') {
			st := &parseState{s: rest}
			if loc, err := readOffset(st, true); err == nil && st.pos == len(rest) {
				return loc, nil
			}
		}
	}
	if name == "" || name == "Local" || strings.ContainsAny(name, " .") {
		return nil, fmt.Errorf("unknown time zone %q", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q", name)
	}
	return loc, nil
}

// zoneCache resolves each zone name once per call site.
type zoneCache struct{ m sync.Map }

func (c *zoneCache) get(name string) (*time.Location, error) {
	if l, ok := c.m.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := loadZone(name)
	if err != nil {
		return nil, err
	}
	c.m.Store(name, l)
	return l, nil
}
