package converters

import (
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// validSchemaless reports what checkJSON(b, true) reports (would
// ParseSchemaless succeed?) in one loop over the text, without the
// parser's recursion and per-value calls: a sink whose Filter drops a
// topic's records checks every one of them (decision 0032), and the
// parser's skip mode cost more than a third of parsing them.
//
// It accepts exactly what the parser accepts: any value at the top, white
// space around it; strings without control characters, escapes among
// \" \\ \/ \b \f \n \r \t and \u with four hex digits (invalid UTF-8 and
// lone surrogates are replaced, never errors); numbers in JSON's grammar
// which, unless integers of at most 18 digits, parse as a float64 in
// range. Documents nested deeper than its stack go to checkJSON.
func validSchemaless(b []byte) bool {
	const (
		wantValue = iota
		afterValue
		wantKey
	)
	var stack [64]byte // '{' or '[' per open container
	depth, i, n := 0, 0, len(b)
	state := wantValue
	for {
		for i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
			i++
		}
		switch state {
		case wantValue:
			if i >= n {
				return false
			}
			state = afterValue
			switch c := b[i]; {
			case c == '{' || c == '[':
				if depth == len(stack) {
					return checkJSON(b, true)
				}
				stack[depth] = c
				depth++
				i++
				for i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
					i++
				}
				if i < n && b[i] == c+2 { // '}' is '{'+2, ']' is '['+2
					i++
					depth--
				} else if c == '{' {
					state = wantKey
				} else {
					state = wantValue
				}
			case c == '"':
				var ok bool
				if i, ok = skipJSONString(b, i); !ok {
					return false
				}
			case c == 't':
				if n-i < 4 || string(b[i:i+4]) != "true" {
					return false
				}
				i += 4
			case c == 'f':
				if n-i < 5 || string(b[i:i+5]) != "false" {
					return false
				}
				i += 5
			case c == 'n':
				if n-i < 4 || string(b[i:i+4]) != "null" {
					return false
				}
				i += 4
			case c == '-' || c >= '0' && c <= '9':
				var ok bool
				if i, ok = skipJSONNumber(b, i); !ok {
					return false
				}
			default:
				return false
			}
		case afterValue:
			if depth == 0 {
				return i == n
			}
			if i >= n {
				return false
			}
			open := stack[depth-1]
			switch b[i] {
			case ',':
				i++
				if open == '{' {
					state = wantKey
				} else {
					state = wantValue
				}
			case open + 2:
				i++
				depth--
			default:
				return false
			}
		case wantKey:
			if i >= n || b[i] != '"' {
				return false
			}
			var ok bool
			if i, ok = skipJSONString(b, i); !ok {
				return false
			}
			for i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
				i++
			}
			if i >= n || b[i] != ':' {
				return false
			}
			i++
			state = wantValue
		}
	}
}

// plainStringByte holds the bytes a string takes as they are: not a
// quote, a backslash or a control character.
var plainStringByte = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// plainASCII holds the ASCII bytes a string takes as they are; a run of
// them needs no decoding and no UTF-8 check.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// skipPlainASCII returns the index of the first byte from b[j:] that is
// not in plainASCII (len(b) if none): the string readers skip such a run
// at once, then go on byte by byte.
func skipPlainASCII(b []byte, j int) int {
	for j < len(b) && plainASCII[b[j]] {
		j++
	}
	return j
}

// skipJSONString returns the end of the string whose quote is at b[i].
func skipJSONString(b []byte, i int) (int, bool) {
	n := len(b)
	for j := i + 1; j < n; {
		for j < n && plainStringByte[b[j]] {
			j++
		}
		if j >= n {
			break
		}
		switch c := b[j]; {
		case c == '"':
			return j + 1, true
		case c < 0x20:
			return 0, false
		}
		if j+1 >= n {
			return 0, false
		}
		switch b[j+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			j += 2
		case 'u':
			if j+6 > n {
				return 0, false
			}
			for _, h := range b[j+2 : j+6] {
				if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
					return 0, false
				}
			}
			j += 6
		default:
			return 0, false
		}
	}
	return 0, false
}

// skipJSONNumber returns the end of the number that starts at b[i], as the
// parser reads it with schemaless numbers.
func skipJSONNumber(b []byte, i int) (int, bool) {
	n, start := len(b), i
	if b[i] == '-' {
		i++
	}
	digits := func() int {
		d := i
		for i < n && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i - d
	}
	intStart := i
	intDigits := digits()
	if intDigits == 0 || b[intStart] == '0' && intDigits > 1 {
		return 0, false
	}
	integral := true
	if i < n && b[i] == '.' {
		i++
		integral = false
		if digits() == 0 {
			return 0, false
		}
	}
	exp := i < n && (b[i] == 'e' || b[i] == 'E')
	if exp {
		i++
		integral = false
		if i < n && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return 0, false
		}
	}
	if integral && i-intStart <= 18 || !exp && intDigits <= 300 {
		return i, true // an int64, or a float64 below 1e300 (no exponent)
	}
	// Only the float parse can fail (out of range); strconv keeps no
	// reference to the text.
	if _, err := strconv.ParseFloat(unsafe.String(&b[start], i-start), 64); err != nil {
		return 0, false
	}
	return i, true
}
