package datagen

import (
	"regexp/syntax"
	"testing"
	"unicode/utf8"
)

// genRegex is the walk of the syntax tree that rxNode compiles; the tests
// check that both give the same text from the same random numbers.
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
		lo, hi := repeatBounds(re)
		n := lo + int(r.intn(uint64(hi-lo+1)))
		for i := 0; i < n; i++ {
			buf = genRegex(re.Sub[0], r, buf)
		}
	}
	// OpEmptyMatch, anchors and boundaries produce no characters.
	return buf
}

// The compiled generator draws the same random numbers as the walk of the
// syntax tree and writes the same text; a pattern is plain exactly when
// none of its texts needs JSON escaping.
func TestCompiledRegexSameText(t *testing.T) {
	patterns := []string{
		"Item_[1-9][0-9]{0,2}", "City_[1-9]{1,2}", "State_[1-9]{1,2}", `[a-z]{5,10}@example\.com`,
		"(foo|bar|baz)+", "a*b+c?", "x{3}", "[^a]", `\S{2,4}`, ".{0,5}", `[A-Za-z0-9 _"\\]{1,8}`,
		"é[à-ü]{2}", "(a|(b|c)d)*", "^start$", `\d{3}-\d{4}`, "[\u00e0-\u00ff\u4e00-\u4e0f]x", `ab\bc`,
		"User_[1-9]{0,1}", "[0-9a-f]{8}-[0-9a-f]{4}", "(?i)abc", "[\"x]",
	}
	for _, p := range patterns {
		g, err := newRegexGen(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		re, _ := syntax.Parse(p, syntax.Perl)
		re = re.Simplify()
		narrowClasses(re)
		needsEscape := false
		for seed := range int64(300) {
			var r1, r2 rng
			r1.seed(7, 0, seed)
			r2.seed(7, 0, seed)
			want := genRegex(re, &r1, nil)
			got := g.generate(&r2, nil)
			if string(got) != string(want) {
				t.Fatalf("%s seed %d: %q, want %q", p, seed, got, want)
			}
			if r1 != r2 {
				t.Fatalf("%s seed %d: the random sources parted", p, seed)
			}
			q := appendQuoted(nil, want)
			if string(q) != `"`+string(want)+`"` {
				needsEscape = true
			}
		}
		if g.plain && needsEscape {
			t.Errorf("%s: plain, but a text needed escaping", p)
		}
	}
	for p, plain := range map[string]bool{"Item_[1-9][0-9]{0,2}": true, `[a-z"]`: false, "a.b": false, "é": false, `x\\`: false, "[ -~]": false, "[ -!#-~]": false, "[ -!#-[]": true} {
		if g, _ := newRegexGen(p); g.plain != plain {
			t.Errorf("%s: plain %v, want %v", p, g.plain, plain)
		}
	}
}
