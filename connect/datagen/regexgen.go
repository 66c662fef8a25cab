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
type regexGen struct {
	prog *rxNode
	// plain: the text needs no JSON escaping (printable ASCII only,
	// without '"' and '\\'), so it can be written between quotes as it is
	// generated.
	plain bool
}

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
	prog, plain := compileRegex(re)
	return &regexGen{prog: prog, plain: plain}, nil
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

func (g *regexGen) generate(r *rng, buf []byte) []byte { return g.prog.gen(r, buf) }

// rxNode is a compiled regex node: what genRegex's walk of the syntax
// tree computes per record (literal text, class sizes, repeat bounds) is
// computed once. It draws the same random numbers in the same order as
// that walk, so the generated text does not change.
type rxNode struct {
	op     syntax.Op
	lit    []byte // OpLiteral: its UTF-8 text
	ranges []rune // OpCharClass: inclusive [lo, hi] pairs
	size   uint64 // OpCharClass: runes in the class
	ascii  bool   // OpCharClass: one range of ASCII runes
	min    int    // repeats: the least count
	span   uint64 // repeats: the number of counts
	subs   []*rxNode
}

// repeatBounds is how many times a repetition may repeat its operand:
// unbounded ones (*, +, {n,}) at most maxRepeat more than their minimum.
func repeatBounds(re *syntax.Regexp) (lo, hi int) {
	lo, hi = re.Min, re.Max
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
	return lo, hi
}

// compileRegex compiles re; plain reports whether every byte it can
// produce is printable ASCII that JSON needs not escape.
func compileRegex(re *syntax.Regexp) (n *rxNode, plain bool) {
	n = &rxNode{op: re.Op}
	plain = true
	switch re.Op {
	case syntax.OpLiteral:
		for _, c := range re.Rune {
			n.lit = utf8.AppendRune(n.lit, c)
			plain = plain && plainRune(c)
		}
	case syntax.OpCharClass:
		n.ranges, n.size = re.Rune, classSize(re.Rune)
		n.ascii = len(re.Rune) == 2 && re.Rune[1] < utf8.RuneSelf
		for i := 0; i < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			plain = plain && lo >= ' ' && hi <= '~' && !(lo <= '"' && '"' <= hi) && !(lo <= '\\' && '\\' <= hi)
		}
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		plain = false // '"' and '\\' among them
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		lo, hi := repeatBounds(re)
		n.min, n.span = lo, uint64(hi-lo+1)
	}
	switch re.Op {
	case syntax.OpCapture, syntax.OpConcat, syntax.OpAlternate, syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		for _, s := range re.Sub {
			c, p := compileRegex(s)
			n.subs = append(n.subs, c)
			plain = plain && p
		}
	}
	return n, plain
}

func plainRune(c rune) bool { return c >= ' ' && c <= '~' && c != '"' && c != '\\' }

func (n *rxNode) gen(r *rng, buf []byte) []byte {
	switch n.op {
	case syntax.OpLiteral:
		buf = append(buf, n.lit...)
	case syntax.OpCharClass:
		if n.ascii {
			buf = append(buf, byte(n.ranges[0]+rune(r.intn(n.size))))
		} else {
			buf = utf8.AppendRune(buf, pickRuneN(n.ranges, r.intn(n.size)))
		}
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		buf = append(buf, byte(' '+r.intn(95))) // printable ASCII
	case syntax.OpCapture:
		buf = n.subs[0].gen(r, buf)
	case syntax.OpConcat:
		for _, s := range n.subs {
			buf = s.gen(r, buf)
		}
	case syntax.OpAlternate:
		buf = n.subs[r.intn(uint64(len(n.subs)))].gen(r, buf)
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		k := n.min + int(r.intn(n.span))
		for i := 0; i < k; i++ {
			buf = n.subs[0].gen(r, buf)
		}
	}
	// OpEmptyMatch, anchors and boundaries produce no characters.
	return buf
}

// pickRune picks a rune from a class given as inclusive [lo, hi] pairs,
// uniformly over all runes of the class.
func pickRune(ranges []rune, r *rng) rune { return pickRuneN(ranges, r.intn(classSize(ranges))) }

// pickRuneN is the n-th rune of the class.
func pickRuneN(ranges []rune, n uint64) rune {
	for i := 0; i < len(ranges); i += 2 {
		size := uint64(ranges[i+1]-ranges[i]) + 1
		if n < size {
			return ranges[i] + rune(n)
		}
		n -= size
	}
	return ranges[0]
}
