// Package regexlist holds the include and exclude lists of the CDC
// connectors (table.include.list, column.exclude.list ...): regular
// expressions each matched against a whole name, as Debezium matches them.
package regexlist

import (
	"fmt"
	"regexp"
)

// List is a compiled include or exclude list.
type List []*regexp.Regexp

// Compile anchors and compiles the patterns of config key. foldCase makes
// them case-insensitive (Debezium's MySQL connector; PostgreSQL's is
// case-sensitive).
func Compile(key string, pats []string, foldCase bool) (List, error) {
	flags := ""
	if foldCase {
		flags = "(?i)"
	}
	var l List
	for _, p := range pats {
		re, err := regexp.Compile(flags + "^(?:" + p + ")$")
		if err != nil {
			return nil, fmt.Errorf("%s: invalid regular expression %q: %w", key, p, err)
		}
		l = append(l, re)
	}
	return l, nil
}

// Match reports whether some pattern matches all of s.
func (l List) Match(s string) bool {
	for _, re := range l {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}
