package mysql

import (
	"strings"
	"testing"

	"github.com/sluicedata/sluice/connect"
)

// The spec is the connector's reference: every field documented, defaults
// valid, the Debezium class names registered.
func TestSpec(t *testing.T) {
	for _, n := range append([]string{Spec.Name}, Spec.Aliases...) {
		if p, ok := connect.Lookup(n); !ok || p.Spec.Name != "mysql-cdc" {
			t.Errorf("%s not registered", n)
		}
	}
	for _, f := range Spec.Fields {
		if len(f.Doc) < 20 || f.Group == "" || f.Importance == "" {
			t.Errorf("%s: doc, group or importance missing", f.Name)
		}
		if f.Default != "" {
			one := connect.Spec{Fields: []connect.FieldSpec{f}}
			if errs := one.Validate(connect.Config{f.Name: f.Default}); len(errs) > 0 {
				t.Errorf("%s: default fails validation: %v", f.Name, errs)
			}
		}
	}
}

func TestConfigErrors(t *testing.T) {
	base := func() connect.Config {
		return connect.Config{"database.hostname": "h", "database.user": "u", "topic.prefix": "p"}
	}
	for _, tc := range []struct {
		set  map[string]string
		want string
	}{
		{map[string]string{"topic.prefix": ""}, `"topic.prefix"`},
		{map[string]string{"snapshot.mode": "sometimes"}, "snapshot.mode: Invalid value sometimes"},
		{map[string]string{"table.include.list": "a(b"}, "table.include.list"},
		{map[string]string{"table.include.list": "a", "table.exclude.list": "b"}, "cannot be used together"},
		{map[string]string{"database.server.id": "0"}, "database.server.id"},
		{map[string]string{"topic.prefix": "a b"}, "topic.prefix"},
	} {
		cfg := base()
		for k, v := range tc.set {
			cfg[k] = v
		}
		_, err := parseConf(cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want it to mention %q", tc.set, err, tc.want)
		}
	}
	c, err := parseConf(connect.Config{"database.hostname": "h", "database.user": "u", "topic.prefix": "p", "snapshot.mode": "schema_only_recovery",
		"connector.class": "io.debezium.connector.mariadb.MariaDbConnector"})
	if err != nil || c.snapshotMode != "recovery" || c.connectorName != "mariadb" {
		t.Errorf("aliases: %+v %v", c, err)
	}
}

func TestParseEnumValues(t *testing.T) {
	got := strings.Join(parseEnumValues("enum('a','b c','d''e','')"), "|")
	if got != "a|b c|d'e|" {
		t.Errorf("got %q", got)
	}
}

func TestParseTime(t *testing.T) {
	for in, want := range map[string]int64{"-838:59:59": -3020399000000, "12:34:56.000789": 45296000789, "00:00:00.5": 500000, "100:00:00": 360000000000} {
		if got, err := parseTime(in); err != nil || got != want {
			t.Errorf("%s: %d %v, want %d", in, got, err, want)
		}
	}
}

func TestGTIDsPurged(t *testing.T) {
	for _, tc := range []struct{ stored, list, want string }{
		{"0-1-100", "[]", ""},
		{"0-1-100", "[0-1-100]", ""},
		{"0-1-100", "[0-1-101]", "0-1-101"},
		{"0-1-100,1-2-5", "[0-1-50,1-2-6]", "1-2-6"},
		{"0-1-100", "[0-1-50,3-1-1]", "3-1-1"}, // a domain the position never saw
		{"0-2-100", "[0-1-90]", ""},            // failover: the sequence counts per domain
	} {
		got, err := gtidsPurged(tc.stored, tc.list)
		if err != nil || got != tc.want {
			t.Errorf("gtidsPurged(%q, %q) = %q, %v; want %q", tc.stored, tc.list, got, err, tc.want)
		}
	}
}

func TestKeyAfter(t *testing.T) {
	if got := keyAfter([]string{"`a`"}, []string{"1"}); got != "((`a` > 1))" {
		t.Errorf("one column: %s", got)
	}
	want := "((`a` > 1) OR (`a` = 1 AND `b` > 'x') OR (`a` = 1 AND `b` = 'x' AND `c` > 2))"
	if got := keyAfter([]string{"`a`", "`b`", "`c`"}, []string{"1", "'x'", "2"}); got != want {
		t.Errorf("three columns:\n got %s\nwant %s", got, want)
	}
}
