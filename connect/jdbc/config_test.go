package jdbc

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/sluicedata/sluice/connect"
)

func TestParseURL(t *testing.T) {
	cases := []struct {
		url                                string
		dialect, host, db, user, pass, err string
	}{
		{url: "jdbc:postgresql://db.example:5433/shop?user=u&password=p%40ss", dialect: "postgresql", host: "db.example:5433", db: "shop", user: "u", pass: "p@ss"},
		{url: "jdbc:postgresql://localhost/shop", dialect: "postgresql", host: "localhost:5432", db: "shop"},
		{url: "jdbc:mysql://10.0.0.1/inv?useSSL=false", dialect: "mysql", host: "10.0.0.1:3306", db: "inv"},
		{url: "jdbc:mariadb://u:pw@[::1]:3307/inv", dialect: "mysql", host: "[::1]:3307", db: "inv", user: "u", pass: "pw"},
		{url: "postgres://h:1/d", dialect: "postgresql", host: "h:1", db: "d"},
		{url: "jdbc:sqlserver://h:1433;databaseName=x", err: `"sqlserver" is not supported`},
		{url: "jdbc:postgresql://h:5432/", err: "no database name"},
		{url: "h:5432/db", err: "want jdbc:postgresql://"},
	}
	for _, c := range cases {
		got, err := parseURL(c.url)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: got error %v, want one containing %q", c.url, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.url, err)
			continue
		}
		if got.dialect != c.dialect || got.host != c.host || got.database != c.db || got.user != c.user || got.password != c.pass {
			t.Errorf("%s: got %+v", c.url, got)
		}
	}
}

func TestParseConfig(t *testing.T) {
	base := "jdbc:postgresql://h/d"
	cases := []struct {
		name string
		cfg  connect.Config
		err  string
		// check runs on a valid config.
		check func(*config) bool
	}{
		{name: "defaults", cfg: connect.Config{},
			check: func(c *config) bool {
				return c.insertMode == modeInsert && c.pkMode == pkNone && c.batchSize == 3000 && c.quote && c.loc.String() == "UTC" && c.tableFormat == "${topic}"
			}},
		{name: "user overrides url", cfg: connect.Config{"connection.url": base + "?user=a&password=b", "connection.user": "c", "connection.password": "d"},
			check: func(c *config) bool { return c.target.user == "c" && c.target.password == "d" }},
		{name: "debezium keys", cfg: connect.Config{"connection.username": "dbz", "primary.key.mode": "record_value", "primary.key.fields": "a,b",
			"schema.evolution": "basic", "quote.identifiers": "NEVER", "database.time_zone": "Europe/Paris",
			"field.include.list": "topic1:a,c", "collection.name.format": "x_${topic}", "insert.mode": "upsert"},
			check: func(c *config) bool {
				return c.target.user == "dbz" && c.pkMode == pkRecordValue && strings.Join(c.pkFields, ",") == "a,b" &&
					c.autoCreate && c.autoEvolve && !c.quote && c.loc.String() == "Europe/Paris" && c.fields["a"] && c.fields["c"] &&
					c.tableFormat == "x_${topic}"
			}},
		{name: "upsert without key", cfg: connect.Config{"insert.mode": "upsert"}, err: "insert.mode=upsert needs a primary key"},
		{name: "update without key", cfg: connect.Config{"insert.mode": "update"}, err: "insert.mode=update needs a primary key"},
		{name: "delete with kafka key", cfg: connect.Config{"delete.enabled": "true", "pk.mode": "kafka"}, err: "delete.enabled=true needs pk.mode=record_key"},
		{name: "kafka key names", cfg: connect.Config{"pk.mode": "kafka", "pk.fields": "a,b"}, err: "three pk.fields"},
		{name: "bad mode", cfg: connect.Config{"insert.mode": "merge"}, err: "insert.mode: Invalid value merge"},
		{name: "bad zone", cfg: connect.Config{"db.timezone": "Mars/Olympus"}, err: "db.timezone"},
		{name: "bad batch", cfg: connect.Config{"batch.size": "0"}, err: "batch.size"},
		{name: "no url", cfg: connect.Config{"connection.url": ""}, err: `Missing required configuration "connection.url"`},
	}
	for _, c := range cases {
		cfg := connect.Config{"connection.url": base}
		for k, v := range c.cfg {
			cfg[k] = v
		}
		got, err := parseConfig(cfg)
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: got error %v, want one containing %q", c.name, err, c.err)
		case c.err == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.err == "" && !c.check(got):
			t.Errorf("%s: got %+v", c.name, got)
		}
	}
}

func TestParseTable(t *testing.T) {
	cases := []struct {
		d          dialect
		name, want string
		err        string
	}{
		{postgres, "orders", "orders", ""},
		{postgres, "sales.orders", "sales.orders", ""},
		{postgres, "shop.sales.orders", "sales.orders", ""}, // shop is the connected database
		{postgres, "srv1.public.customers", "", `names database "srv1"`},
		{postgres, "a..b", "", "empty part"},
		{mariadb, "inventory.customers", "inventory.customers", ""},
		{mariadb, "srv1.inventory.customers", "", "at most 2"},
	}
	for _, c := range cases {
		got, err := parseTable(c.d, c.name, "shop")
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%v %q: got %v, want error containing %q", c.d, c.name, err, c.err)
			}
			continue
		}
		if err != nil || got.String() != c.want {
			t.Errorf("%v %q: got %v, %v, want %s", c.d, c.name, got, err, c.want)
		}
	}
}

func TestStatements(t *testing.T) {
	tbl := tableID{schema: "s", name: "t"}
	cols := []string{"id", "a", "b"}
	pg, my, bare := sqlWriter{d: postgres, quote: true}, sqlWriter{d: mariadb, quote: true}, sqlWriter{d: postgres}
	cases := []struct{ got, want string }{
		{pg.insert(tbl, cols, 1, 2, false), `INSERT INTO "s"."t" ("id", "a", "b") VALUES ($1, $2, $3), ($4, $5, $6)`},
		{pg.insert(tbl, cols, 1, 1, true), `INSERT INTO "s"."t" ("id", "a", "b") VALUES ($1, $2, $3) ON CONFLICT ("id") DO UPDATE SET "a" = EXCLUDED."a", "b" = EXCLUDED."b"`},
		{pg.insert(tbl, cols[:1], 1, 1, true), `INSERT INTO "s"."t" ("id") VALUES ($1) ON CONFLICT ("id") DO NOTHING`},
		{my.insert(tbl, cols, 2, 1, true), "INSERT INTO `s`.`t` (`id`, `a`, `b`) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE `b` = VALUES(`b`)"},
		{my.insert(tbl, cols[:1], 1, 1, true), "INSERT INTO `s`.`t` (`id`) VALUES (?) ON DUPLICATE KEY UPDATE `id` = VALUES(`id`)"},
		{pg.insertUnnest(tbl, cols, []string{`"pg_catalog"."int4"`, `"pg_catalog"."text"`, `"public"."mood"`}, 1, true),
			`INSERT INTO "s"."t" ("id", "a", "b") SELECT * FROM unnest($1::"pg_catalog"."int4"[], $2::"pg_catalog"."text"[], $3::"public"."mood"[]) ON CONFLICT ("id") DO UPDATE SET "a" = EXCLUDED."a", "b" = EXCLUDED."b"`},
		{pg.updateUnnest(tbl, cols, []string{"int4", "text", "int8"}, 1),
			`UPDATE "s"."t" AS dst SET "a" = src."a", "b" = src."b" FROM unnest($1::int4[], $2::text[], $3::int8[]) AS src ("id", "a", "b") WHERE dst."id" = src."id"`},
		{pg.deleteUnnest(tbl, cols[:2], []string{"int4", "text"}),
			`DELETE FROM "s"."t" WHERE ("id", "a") IN (SELECT * FROM unnest($1::int4[], $2::text[]))`},
		{pgArrayLiteral([]any{int64(1), nil, "NULL", `a"\`, []byte{0xff}, 1.5, math.Inf(-1), true}),
			`{"1",NULL,"NULL","a\"\\","\\xff","1.5","-Infinity","true"}`},
		{pg.update(tbl, cols, 2), `UPDATE "s"."t" SET "b" = $1 WHERE "id" = $2 AND "a" = $3`},
		{my.update(tbl, cols, 1), "UPDATE `s`.`t` SET `a` = ?, `b` = ? WHERE `id` = ?"},
		{pg.delete(tbl, cols[:2], 1), `DELETE FROM "s"."t" WHERE "id" = $1 AND "a" = $2`},
		{pg.delete(tbl, cols[:2], 2), `DELETE FROM "s"."t" WHERE ("id", "a") IN (($1, $2), ($3, $4))`},
		{bare.delete(tableID{name: "t"}, cols[:1], 2), `DELETE FROM t WHERE (id) IN (($1), ($2))`},
		{pg.ident(`we"ird`), `"we""ird"`},
		{my.ident("we`ird"), "`we``ird`"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got  %s\nwant %s", c.got, c.want)
		}
	}
	create, err := my.createTable(tableID{name: "t"}, []column{
		{"id", &connect.Schema{Type: connect.String}, true},
		{"n", &connect.Schema{Type: connect.Int32, Default: int32(3)}, false},
		{"s", &connect.Schema{Type: connect.String, Optional: true, Default: "it's"}, false},
	})
	want := "CREATE TABLE IF NOT EXISTS `t` (\n  `id` VARCHAR(255) NOT NULL,\n  `n` INTEGER DEFAULT 3 NOT NULL,\n  `s` LONGTEXT DEFAULT ('it''s') NULL,\n  PRIMARY KEY (`id`)\n)"
	if err != nil || create != want {
		t.Errorf("create table: %v\n%s\nwant\n%s", err, create, want)
	}
	if _, err := pg.createTable(tbl, []column{{"m", &connect.Schema{Type: connect.Map}, false}}); err == nil || !strings.Contains(err.Error(), `column "m"`) {
		t.Errorf("a map column: got %v, want an error naming it", err)
	}
}

func TestUnscaled(t *testing.T) {
	for _, c := range []struct {
		b     []byte
		scale int
		want  string
	}{
		{[]byte{0x30, 0x39}, 2, "123.45"},
		{[]byte{0xcf, 0xc7}, 2, "-123.45"},
		{[]byte{0x01}, 3, "0.001"},
		{[]byte{0xff}, 0, "-1"},
		{nil, 0, "0"},
	} {
		if got := unscaledString(c.b, c.scale); got != c.want {
			t.Errorf("%x scale %d: got %s, want %s", c.b, c.scale, got, c.want)
		}
	}
}

func TestSpec(t *testing.T) {
	for _, name := range append([]string{Spec.Name}, Spec.Aliases...) {
		if p, ok := connect.Lookup(name); !ok || p.NewSink == nil {
			t.Errorf("%s is not registered as a sink", name)
		}
	}
	for _, f := range Spec.Fields {
		if f.Default != "" {
			one := connect.Spec{Fields: []connect.FieldSpec{f}}
			if errs := one.Validate(connect.Config{f.Name: f.Default}); len(errs) > 0 {
				t.Errorf("%s: default %q fails validation: %v", f.Name, f.Default, errs)
			}
		}
		if len(f.Doc) < 20 || f.Group == "" || f.Importance == "" {
			t.Errorf("%s: doc, group or importance missing", f.Name)
		}
	}
}

// Values reach the sink in the Go types the converters and transforms use;
// the sink is lenient where they are.
func TestBindLenient(t *testing.T) {
	loc := time.UTC
	cases := []struct {
		schema *connect.Schema
		in     any
		want   any
		err    string
	}{
		{&connect.Schema{Type: connect.Int32}, int(5), int64(5), ""},
		{&connect.Schema{Type: connect.Int64}, uint32(7), int64(7), ""},
		{&connect.Schema{Type: connect.Int64}, uint64(1 << 63), nil, "does not fit"},
		{&connect.Schema{Type: connect.Float64}, int32(2), 2.0, ""},
		{&connect.Schema{Type: connect.Int32}, "5", nil, "does not fit a field of type int32"},
		{&connect.Schema{Type: connect.Bytes, Name: connect.DecimalName, Parameters: map[string]string{"scale": "1"}}, "1.5", "1.5", ""},
		{&connect.Schema{Type: connect.Bytes, Name: connect.DecimalName}, "x", nil, "invalid decimal"},
		{&connect.Schema{Type: connect.String}, "a\x00b", nil, "NUL"},
		{&connect.Schema{Type: connect.Bytes}, "AQI=", []byte{1, 2}, ""},
		{&connect.Schema{Type: connect.Int32, Name: dbzTime}, int32(-1), nil, "outside 00:00 to 24:00"},
		{&connect.Schema{Type: connect.String, Name: dbzZonedTimestamp}, "yesterday", nil, "not an ISO-8601 timestamp"},
	}
	for _, c := range cases {
		got, err := bind(postgres, c.schema, c.in, loc)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%v %#v: got %v, want error containing %q", c.schema.Type, c.in, err, c.err)
			}
			continue
		}
		if err != nil || fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", c.want) {
			t.Errorf("%v %#v: got %#v, %v, want %#v", c.schema.Type, c.in, got, err, c.want)
		}
	}
}
