package datagen

import (
	"fmt"
	"regexp/syntax"
	"unicode/utf8"
)

// maxRepeat bounds the open repetitions (*, +, {n,}) of a regex pattern, as
// avro-random-generator does, so a generated string stays short.
const maxRepeat = 10

// regexGen produces strings matching a regular expression. It supports the
// subset test-data patterns use: literals, character classes, ., groups,
// alternation and repetition. Anchors and word boundaries generate nothing.
type regexGen struct{ root *syntax.Regexp }

func newRegexGen(pattern string) (*regexGen, error) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, fmt.Errorf("regex %q: %w", pattern, err)
	}
	re = re.Simplify()
	if err := checkRegex(re); err != nil {
		return nil, fmt.Errorf("regex %q: %w", pattern, err)
	}
	narrowClasses(re)
	return &regexGen{root: re}, nil
}

// narrowClasses limits wide classes ([^x], \S) to printable ASCII when they
// contain any, so generated text stays readable and valid UTF-8.
func narrowClasses(re *syntax.Regexp) {
	if re.Op == syntax.OpCharClass && classSize(re.Rune) > 256 {
		var ascii []rune
		for i := 0; i < len(re.Rune); i += 2 {
			lo, hi := max(re.Rune[i], ' '), min(re.Rune[i+1], '~')
			if lo <= hi {
				ascii = append(ascii, lo, hi)
			}
		}
		if len(ascii) > 0 {
			re.Rune = ascii
		}
	}
	for _, s := range re.Sub {
		narrowClasses(s)
	}
}

func classSize(ranges []rune) uint64 {
	var total uint64
	for i := 0; i < len(ranges); i += 2 {
		total += uint64(ranges[i+1]-ranges[i]) + 1
	}
	return total
}

func checkRegex(re *syntax.Regexp) error {
	switch re.Op {
	case syntax.OpNoMatch:
		return fmt.Errorf("matches nothing")
	case syntax.OpCharClass:
		if len(re.Rune) == 0 {
			return fmt.Errorf("empty character class")
		}
	}
	for _, s := range re.Sub {
		if err := checkRegex(s); err != nil {
			return err
		}
	}
	return nil
}

func (g *regexGen) generate(r *rng, buf []byte) []byte { return genRegex(g.root, r, buf) }

func genRegex(re *syntax.Regexp, r *rng, buf []byte) []byte {
	switch re.Op {
	case syntax.OpLiteral:
		for _, c := range re.Rune {
			buf = utf8.AppendRune(buf, c)
		}
	case syntax.OpCharClass:
		buf = utf8.AppendRune(buf, pickRune(re.Rune, r))
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		buf = append(buf, byte(' '+r.intn(95))) // printable ASCII
	case syntax.OpCapture:
		buf = genRegex(re.Sub[0], r, buf)
	case syntax.OpConcat:
		for _, s := range re.Sub {
			buf = genRegex(s, r, buf)
		}
	case syntax.OpAlternate:
		buf = genRegex(re.Sub[r.intn(uint64(len(re.Sub)))], r, buf)
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		lo, hi := re.Min, re.Max
		switch re.Op {
		case syntax.OpStar:
			lo, hi = 0, maxRepeat
		case syntax.OpPlus:
			lo, hi = 1, maxRepeat
		case syntax.OpQuest:
			lo, hi = 0, 1
		}
		if hi < 0 {
			hi = lo + maxRepeat
		}
		n := lo + int(r.intn(uint64(hi-lo+1)))
		for i := 0; i < n; i++ {
			buf = genRegex(re.Sub[0], r, buf)
		}
	}
	// OpEmptyMatch, anchors and boundaries produce no characters.
	return buf
}

// pickRune picks a rune from a class given as inclusive [lo, hi] pairs,
// uniformly over all runes of the class.
func pickRune(ranges []rune, r *rng) rune {
	n := r.intn(classSize(ranges))
	for i := 0; i < len(ranges); i += 2 {
		size := uint64(ranges[i+1]-ranges[i]) + 1
		if n < size {
			return ranges[i] + rune(n)
		}
		n -= size
	}
	return ranges[0]
}
