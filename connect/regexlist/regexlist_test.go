package regexlist

import (
	"strings"
	"testing"
)

func TestMatchIsAnchoredAndCaseAsAsked(t *testing.T) {
	for _, c := range []struct {
		pats []string
		fold bool
		name string
		want bool
	}{
		{[]string{`public\.orders`}, false, "public.orders", true},
		{[]string{`public\.orders`}, false, "public.orders_old", false},
		{[]string{`public\.orders`}, false, "x.public.orders", false},
		{[]string{`public\.orders`}, false, "PUBLIC.ORDERS", false},
		{[]string{`shop\.orders`}, true, "SHOP.Orders", true},
		{[]string{`a`, `b|c`}, false, "c", true},
		{nil, false, "anything", false},
	} {
		l, err := Compile("table.include.list", c.pats, c.fold)
		if err != nil {
			t.Fatal(err)
		}
		if got := l.Match(c.name); got != c.want {
			t.Errorf("%v fold=%v Match(%q) = %v, want %v", c.pats, c.fold, c.name, got, c.want)
		}
	}
}

func TestCompileNamesKeyAndPattern(t *testing.T) {
	_, err := Compile("column.exclude.list", []string{`ok`, `bad(`}, false)
	if err == nil || !strings.Contains(err.Error(), "column.exclude.list") || !strings.Contains(err.Error(), `"bad("`) {
		t.Fatalf("err = %v, want the key and the pattern named", err)
	}
}
