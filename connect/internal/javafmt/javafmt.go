// Package javafmt prints numbers as Java does, so text Sluice writes for
// Kafka Connect data (JSON numbers, casts to string) reads as Kafka's would.
package javafmt

import (
	"math"
	"strconv"
	"strings"
)

// Double formats f as Java's Double.toString (and Float.toString with
// bits 32) does, which is how Jackson writes doubles: "1.0", "0.001",
// "1.0E7", "1.234E-5".
func Double(f float64, bits int) string {
	abs := math.Abs(f)
	if abs >= 1e-3 && abs < 1e7 {
		return string(AppendDouble(nil, f, bits))
	}
	return double(f, bits)
}

// AppendDouble appends Double(f, bits) to b, in the plain range (1e-3 to
// 1e7, where Java prints no exponent) without allocating.
func AppendDouble(b []byte, f float64, bits int) []byte {
	abs := math.Abs(f)
	if abs >= 1e-3 && abs < 1e7 {
		n := len(b)
		b = strconv.AppendFloat(b, f, 'f', -1, bits)
		for _, c := range b[n:] {
			if c == '.' {
				return b
			}
		}
		return append(b, ".0"...)
	}
	return append(b, double(f, bits)...)
}

func double(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	abs := math.Abs(f)
	if abs >= 1e-3 && abs < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, bits)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'E', -1, bits) // 1.234E+07
	mant, exp, _ := strings.Cut(s, "E")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	exp = strings.TrimPrefix(exp, "+")
	neg := strings.HasPrefix(exp, "-")
	exp = strings.TrimLeft(strings.TrimPrefix(exp, "-"), "0")
	if neg {
		exp = "-" + exp
	}
	return mant + "E" + exp
}
