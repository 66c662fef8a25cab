package funcs

import (
	"testing"
	"time"
)

// The scanners read user data; they must not panic on any input.

func FuzzExtractJSONField(f *testing.F) {
	for _, s := range []string{`{"a":[1,{"b":"x"}]}`, `[1, 2`, `"s\"`, `{"a" 1}`, ``, `nul`, `{"a":{"b":[[]]}}`} {
		f.Add(s, "$.a[1].b")
	}
	f.Fuzz(func(t *testing.T, doc, path string) {
		p, err := parseJSONPath(path)
		if err != nil {
			return
		}
		p.extract(doc)
	})
}

func FuzzJavaFormat(f *testing.F) {
	for _, s := range []string{"yyyy-MM-dd'T'HH:mm:ss.SSSXXX", "[yyyy]MMM d, h:mm a z", "''", "yyyyMMddHHmmss"} {
		f.Add(s, "2021-06-30T12:00:00.123+02:00")
	}
	f.Fuzz(func(t *testing.T, pattern, text string) {
		jf, err := compileJavaFormat(pattern)
		if err != nil {
			return
		}
		jf.format(time.Unix(1625054400, 0).UTC())
		_, _ = jf.parse(text, time.UTC)
	})
}
