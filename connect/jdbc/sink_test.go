package jdbc

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sluicedata/sluice/connect"
	_ "github.com/sluicedata/sluice/connect/transforms" // ExtractNewRecordState
)

func TestInsertModes(t *testing.T) {
	eachDB(t, func(t *testing.T, tdb *testDB) {
		t.Run("insert", func(t *testing.T) {
			tk := startTask(t, tdb, connect.Config{"auto.create": "true", "pk.mode": "record_key", "table.name.format": "ins"})
			put(t, tk, user("t", 1, "ann", 1.5), user("t", 2, "bob", nil))
			tdb.wantRows(t, "SELECT id, name, score FROM ins ORDER BY id", "1|ann|1.5", "2|bob|NULL")
			// A second insert of a key fails that record alone.
			err := tk.Put(context.Background(), []*connect.Record{user("t", 1, "again", nil), user("t", 3, "cat", 3.0)})
			var re *connect.RecordError
			if !errors.As(err, &re) || len(re.Failed) != 1 {
				t.Fatalf("duplicate insert: got %v, want a RecordError for one record", err)
			}
			tdb.wantRows(t, "SELECT id, name FROM ins ORDER BY id", "1|ann", "2|bob", "3|cat")
		})
		t.Run("upsert", func(t *testing.T) {
			tk := startTask(t, tdb, connect.Config{"auto.create": "true", "pk.mode": "record_key", "insert.mode": "upsert", "table.name.format": "ups"})
			put(t, tk, user("t", 1, "ann", 1.5), user("t", 2, "bob", nil), user("t", 1, "ann2", 2.5))
			put(t, tk, user("t", 2, "bob2", 7.0))
			tdb.wantRows(t, "SELECT id, name, score FROM ups ORDER BY id", "1|ann2|2.5", "2|bob2|7")
		})
		t.Run("update", func(t *testing.T) {
			mustExec(t, tdb.db, "CREATE TABLE upd (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL, score DOUBLE PRECISION)")
			mustExec(t, tdb.db, "INSERT INTO upd VALUES (1, 'ann', NULL), (2, 'bob', NULL)")
			tk := startTask(t, tdb, connect.Config{"pk.mode": "record_key", "insert.mode": "update", "table.name.format": "upd"})
			// id 3 does not exist: an update of nothing, not an error.
			put(t, tk, user("t", 2, "bobby", 4.0), user("t", 3, "cat", nil))
			tdb.wantRows(t, "SELECT id, name, score FROM upd ORDER BY id", "1|ann|NULL", "2|bobby|4")
		})
	})
}

// Records of several topics interleaved in one Put: each table gets its
// rows in their order.
func TestInterleavedTables(t *testing.T) {
	eachDB(t, func(t *testing.T, tdb *testDB) {
		tk := startTask(t, tdb, connect.Config{"auto.create": "true", "pk.mode": "record_key", "insert.mode": "upsert", "delete.enabled": "true"})
		put(t, tk, user("ta", 1, "a1", nil), user("tb", 1, "b1", nil), user("ta", 1, "a2", nil), tombstone("tb", 1),
			user("ta", 2, "a3", nil), user("tb", 2, "b2", nil), user("ta", 1, "a4", nil))
		tdb.wantRows(t, "SELECT id, name FROM ta ORDER BY id", "1|a4", "2|a3")
		tdb.wantRows(t, "SELECT id, name FROM tb ORDER BY id", "2|b2")
	})
}

func TestPKModes(t *testing.T) {
	strKey := func(k string, id int32, name string) *connect.Record {
		r := user("t", id, name, nil)
		r.Key, r.KeySchema = k, &connect.Schema{Type: connect.String}
		return r
	}
	eachDB(t, func(t *testing.T, tdb *testDB) {
		t.Run("none", func(t *testing.T) {
			tk := startTask(t, tdb, connect.Config{"auto.create": "true", "table.name.format": "pk_none"})
			put(t, tk, user("t", 1, "a", nil), user("t", 1, "a", nil))
			tdb.wantRows(t, "SELECT id, name FROM pk_none", "1|a", "1|a")
		})
		t.Run("kafka", func(t *testing.T) {
			tk := startTask(t, tdb, connect.Config{"auto.create": "true", "pk.mode": "kafka", "insert.mode": "upsert", "table.name.format": "pk_kafka"})
			r := user("orders", 1, "a", nil)
			r.Partition, r.Offset = 3, 42
			put(t, tk, r)
			put(t, tk, r) // the same Kafka coordinates: still one row
			tdb.wantRows(t, "SELECT __connect_topic, __connect_partition, __connect_offset, id, name FROM pk_kafka", "orders|3|42|1|a")
		})
		t.Run("record_key primitive", func(t *testing.T) {
			tk := startTask(t, tdb, connect.Config{"auto.create": "true", "pk.mode": "record_key", "insert.mode": "upsert", "table.name.format": "pk_prim"})
			put(t, tk, strKey("k1", 1, "a"), strKey("k2", 2, "b"), strKey("k1", 3, "c"))
			tdb.wantRows(t, "SELECT __connect_key, id, name FROM pk_prim ORDER BY __connect_key", "k1|3|c", "k2|2|b")
		})
		t.Run("record_key named", func(t *testing.T) {
			tk := startTask(t, tdb, connect.Config{"auto.create": "true", "pk.mode": "record_key", "pk.fields": "code", "table.name.format": "pk_named"})
			r := strKey("x", 1, "a")
			r.KeySchema = nil // a schemaless string key
			put(t, tk, r)
			tdb.wantRows(t, "SELECT code, id FROM pk_named", "x|1")
		})
		t.Run("record_value", func(t *testing.T) {
			tk := startTask(t, tdb, connect.Config{"auto.create": "true", "pk.mode": "record_value", "pk.fields": "name",
				"insert.mode": "upsert", "table.name.format": "pk_val"})
			put(t, tk, user("t", 1, "a", nil), user("t", 2, "b", nil))
			put(t, tk, user("t", 3, "a", 9.0))
			tdb.wantRows(t, "SELECT name, id, score FROM pk_val ORDER BY name", "a|3|9", "b|2|NULL")
		})
		t.Run("fields.whitelist", func(t *testing.T) {
			tk := startTask(t, tdb, connect.Config{"auto.create": "true", "pk.mode": "record_key", "fields.whitelist": "name", "table.name.format": "pk_wl"})
			put(t, tk, user("t", 1, "a", 1.0))
			tdb.wantRows(t, "SELECT * FROM pk_wl", "1|a")
		})
	})
}

func TestDeletes(t *testing.T) {
	eachDB(t, func(t *testing.T, tdb *testDB) {
		t.Run("tombstone", func(t *testing.T) {
			tk := startTask(t, tdb, connect.Config{"auto.create": "true", "pk.mode": "record_key", "insert.mode": "upsert",
				"delete.enabled": "true", "table.name.format": "del"})
			// Order matters within a batch: 2 is deleted then written again.
			put(t, tk, user("t", 1, "a", nil), user("t", 2, "b", nil), user("t", 3, "c", nil),
				tombstone("t", 2), tombstone("t", 3), user("t", 2, "b2", nil))
			tdb.wantRows(t, "SELECT id, name FROM del ORDER BY id", "1|a", "2|b2")
		})
		t.Run("table never created", func(t *testing.T) {
			tk := startTask(t, tdb, connect.Config{"auto.create": "true", "pk.mode": "record_key", "delete.enabled": "true"})
			put(t, tk, tombstone("never_created", 1))
			tdb.wantRows(t, "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'never_created'", "0")
		})
		t.Run("tombstones skipped when disabled", func(t *testing.T) {
			tk := startTask(t, tdb, connect.Config{"auto.create": "true", "pk.mode": "record_key", "table.name.format": "nodel"})
			put(t, tk, user("t", 1, "a", nil), tombstone("t", 1))
			tdb.wantRows(t, "SELECT id FROM nodel", "1")
		})
		t.Run("debezium", func(t *testing.T) {
			tk := startTask(t, tdb, connect.Config{"auto.create": "true", "pk.mode": "record_key", "insert.mode": "upsert",
				"delete.enabled": "true", "table.name.format": "${source.table}"})
			put(t, tk,
				dbzEvent("c", nil, row(1, "ann")), dbzEvent("r", nil, row(2, "bob")),
				dbzEvent("u", row(1, "ann"), row(1, "anne")), dbzEvent("d", row(2, "bob"), nil),
				tombstone("srv.public.customers", 2))
			tdb.wantRows(t, "SELECT id, name FROM customers ORDER BY id", "1|anne")
		})
		t.Run("debezium unavailable toast value", func(t *testing.T) {
			tk := startTask(t, tdb, connect.Config{"auto.create": "true", "pk.mode": "record_key", "insert.mode": "upsert", "table.name.format": "toast"})
			put(t, tk, dbzEvent("c", nil, row(1, "long text")), dbzEvent("u", nil, row(1, unavailablePlaceholder)))
			tdb.wantRows(t, "SELECT id, name FROM toast", "1|long text")
		})
		t.Run("debezium truncate", func(t *testing.T) {
			cfg := connect.Config{"auto.create": "true", "pk.mode": "record_key", "insert.mode": "upsert", "table.name.format": "trunc"}
			tk := startTask(t, tdb, cfg)
			put(t, tk, dbzEvent("c", nil, row(1, "ann")), dbzEvent("t", nil, nil)) // skipped: truncate.enabled=false
			tdb.wantRows(t, "SELECT id FROM trunc", "1")
			cfg["truncate.enabled"] = "true"
			tk = startTask(t, tdb, cfg)
			put(t, tk, dbzEvent("c", nil, row(2, "bob")), dbzEvent("t", nil, nil), dbzEvent("c", nil, row(3, "cat")))
			tdb.wantRows(t, "SELECT id FROM trunc", "3")
			// A truncate of a table that does not exist (yet) is nothing to do.
			cfg["table.name.format"] = "${source.table}_absent"
			tk = startTask(t, tdb, cfg)
			put(t, tk, dbzEvent("t", nil, nil))
		})
		t.Run("debezium record_value", func(t *testing.T) {
			tk := startTask(t, tdb, connect.Config{"auto.create": "true", "pk.mode": "record_value", "pk.fields": "id",
				"insert.mode": "upsert", "delete.enabled": "true", "table.name.format": "dbz_val"})
			put(t, tk, dbzEvent("c", nil, row(1, "ann")), dbzEvent("c", nil, row(2, "bob")), dbzEvent("d", row(1, "ann"), nil),
				tombstone("srv.public.customers", 1))
			tdb.wantRows(t, "SELECT id, name FROM dbz_val", "2|bob")
		})
	})
}

// Debezium's envelope for a table customers(id, name).
var (
	dbzRowSchema = &connect.Schema{Type: connect.Struct, Name: "srv.public.customers.Value", Optional: true, Fields: []connect.Field{
		{Name: "id", Schema: &connect.Schema{Type: connect.Int32}},
		{Name: "name", Schema: &connect.Schema{Type: connect.String, Optional: true}},
	}}
	dbzSourceSchema = &connect.Schema{Type: connect.Struct, Name: "io.debezium.connector.postgresql.Source", Fields: []connect.Field{
		{Name: "connector", Schema: &connect.Schema{Type: connect.String}},
		{Name: "db", Schema: &connect.Schema{Type: connect.String}},
		{Name: "schema", Schema: &connect.Schema{Type: connect.String}},
		{Name: "table", Schema: &connect.Schema{Type: connect.String}},
	}}
	dbzEnvelope = &connect.Schema{Type: connect.Struct, Name: "srv.public.customers.Envelope", Fields: []connect.Field{
		{Name: "before", Schema: dbzRowSchema},
		{Name: "after", Schema: dbzRowSchema},
		{Name: "source", Schema: dbzSourceSchema},
		{Name: "op", Schema: &connect.Schema{Type: connect.String}},
		{Name: "ts_ms", Schema: &connect.Schema{Type: connect.Int64, Optional: true}},
	}}
)

func row(id int32, name string) *connect.StructValue {
	return connect.NewStruct(dbzRowSchema).Put("id", id).Put("name", name)
}

func dbzEvent(op string, before, after *connect.StructValue) *connect.Record {
	src := connect.NewStruct(dbzSourceSchema).Put("connector", "postgresql").Put("db", "shop").Put("schema", "public").Put("table", "customers")
	v := connect.NewStruct(dbzEnvelope).Put("op", op).Put("source", src).Put("ts_ms", int64(1))
	var id int32
	if before != nil {
		v.Put("before", before)
		id = before.Get("id").(int32)
	}
	if after != nil {
		v.Put("after", after)
		id = after.Get("id").(int32)
	}
	return &connect.Record{Topic: "srv.public.customers", Offset: offsets.Add(1),
		Key: connect.NewStruct(keySchema).Put("id", id), KeySchema: keySchema, Value: v, ValueSchema: dbzEnvelope}
}

func TestAutoCreateAndEvolve(t *testing.T) {
	v2 := &connect.Schema{Type: connect.Struct, Name: "User", Fields: append(append([]connect.Field{}, userSchema.Fields...),
		connect.Field{Name: "email", Schema: &connect.Schema{Type: connect.String, Optional: true}},
		connect.Field{Name: "level", Schema: &connect.Schema{Type: connect.Int32, Default: int32(7)}},
		connect.Field{Name: "tier", Schema: &connect.Schema{Type: connect.String, Default: "it's basic"}})}
	withV2 := func(id int32, email string) *connect.Record {
		r := user("t", id, "n", nil)
		r.ValueSchema = v2
		r.Value = connect.NewStruct(v2).Put("id", id).Put("name", "n").Put("email", email).Put("level", int32(1)).Put("tier", "gold")
		return r
	}
	eachDB(t, func(t *testing.T, tdb *testDB) {
		t.Run("missing table without auto.create", func(t *testing.T) {
			tk := startTask(t, tdb, connect.Config{"pk.mode": "record_key", "table.name.format": "absent"})
			err := tk.Put(context.Background(), []*connect.Record{user("t", 1, "a", nil)})
			var re *connect.RecordError
			if !errors.As(err, &re) || !strings.Contains(re.Failed[firstKey(re)].Error(), "auto.create") {
				t.Fatalf("got %v, want a RecordError naming auto.create", err)
			}
		})
		t.Run("evolve", func(t *testing.T) {
			tk := startTask(t, tdb, connect.Config{"auto.create": "true", "auto.evolve": "true", "pk.mode": "record_key", "table.name.format": "evo"})
			put(t, tk, user("t", 1, "a", nil))
			put(t, tk, withV2(2, "b@x"), user("t", 3, "c", nil))
			tdb.wantRows(t, "SELECT id, name, email, level, tier FROM evo ORDER BY id", "1|a|NULL|7|it's basic", "2|n|b@x|1|gold", "3|c|NULL|7|it's basic")
			// The primary key and nullability come from the schema.
			nullable := "SELECT column_name, is_nullable FROM information_schema.columns WHERE table_name = 'evo' AND table_schema = '" + tdb.ns + "' ORDER BY column_name"
			tdb.wantRows(t, nullable, "email|YES", "id|NO", "level|NO", "name|NO", "score|YES", "tier|NO")
		})
		t.Run("no evolve", func(t *testing.T) {
			tk := startTask(t, tdb, connect.Config{"auto.create": "true", "pk.mode": "record_key", "table.name.format": "noevo"})
			put(t, tk, user("t", 1, "a", nil))
			err := tk.Put(context.Background(), []*connect.Record{withV2(2, "b"), user("t", 3, "c", nil)})
			var re *connect.RecordError
			if !errors.As(err, &re) || len(re.Failed) != 1 || !strings.Contains(re.Failed[firstKey(re)].Error(), "auto.evolve") {
				t.Fatalf("got %v, want one RecordError naming auto.evolve", err)
			}
			tdb.wantRows(t, "SELECT id FROM noevo ORDER BY id", "1", "3")
		})
		t.Run("schema.table and debezium keys", func(t *testing.T) {
			schema := tdb.ns
			tk := startTask(t, tdb, connect.Config{"schema.evolution": "basic", "primary.key.mode": "record_key",
				"insert.mode": "upsert", "collection.name.format": schema + ".${source.table}_copy", "quote.identifiers": "never"})
			put(t, tk, dbzEvent("c", nil, row(5, "eve")))
			tdb.wantRows(t, "SELECT id, name FROM customers_copy", "5|eve")
		})
	})
}

func firstKey(re *connect.RecordError) *connect.Record {
	for r := range re.Failed {
		return r
	}
	return nil
}

func TestReplayIsIdempotent(t *testing.T) {
	eachDB(t, func(t *testing.T, tdb *testDB) {
		tk := startTask(t, tdb, connect.Config{"auto.create": "true", "pk.mode": "record_key", "insert.mode": "upsert",
			"delete.enabled": "true", "table.name.format": "replay", "batch.size": "2"})
		batch := []*connect.Record{user("t", 1, "a", 1.0), user("t", 2, "b", nil), user("t", 3, "c", nil),
			tombstone("t", 2), user("t", 1, "a2", 2.0), user("t", 4, "d", 4.0)}
		put(t, tk, batch...)
		first := tdb.rows(t, "SELECT * FROM replay ORDER BY id")
		// A crash after the commit but before the offsets were committed
		// hands the same batch over again, to a new task.
		tk2 := startTask(t, tdb, connect.Config{"auto.create": "true", "pk.mode": "record_key", "insert.mode": "upsert",
			"delete.enabled": "true", "table.name.format": "replay", "batch.size": "2"})
		put(t, tk2, batch...)
		tdb.wantRows(t, "SELECT * FROM replay ORDER BY id", first...)
		tdb.wantRows(t, "SELECT id, name FROM replay ORDER BY id", "1|a2", "3|c", "4|d")
	})
}

func TestBadRecordFailsAlone(t *testing.T) {
	eachDB(t, func(t *testing.T, tdb *testDB) {
		mustExec(t, tdb.db, "CREATE TABLE bad (id INT PRIMARY KEY, name VARCHAR(5) NOT NULL, score DOUBLE PRECISION)")
		tk := startTask(t, tdb, connect.Config{"pk.mode": "record_key", "insert.mode": "upsert", "table.name.format": "bad"})
		tooLong := user("t", 2, "much too long", nil) // refused by the database
		wrongType := user("t", 3, "c", nil)           // refused by the sink
		wrongType.Value.(*connect.StructValue).Put("score", "not a number")
		batch := []*connect.Record{user("t", 1, "a", nil), tooLong, wrongType, user("t", 4, "d", nil)}
		err := tk.Put(context.Background(), batch)
		var re *connect.RecordError
		if !errors.As(err, &re) {
			t.Fatalf("got %v, want a RecordError", err)
		}
		if len(re.Failed) != 2 || re.Failed[tooLong] == nil || re.Failed[wrongType] == nil {
			t.Fatalf("failed records: %v", re.Failed)
		}
		if msg := re.Failed[wrongType].Error(); !strings.Contains(msg, `field "score"`) {
			t.Errorf("error %q does not name the field", msg)
		}
		tdb.wantRows(t, "SELECT id, name FROM bad ORDER BY id", "1|a", "4|d")
	})
}

// A value the driver cannot encode for the column (PostgreSQL: refused by
// pgx before sending) or the server refuses (MariaDB strict mode) fails its
// record only, and the connection goes on.
func TestOutOfRangeFailsAlone(t *testing.T) {
	schema := &connect.Schema{Type: connect.Struct, Fields: []connect.Field{
		{Name: "id", Schema: &connect.Schema{Type: connect.Int32}},
		{Name: "small", Schema: &connect.Schema{Type: connect.Int64}},
	}}
	rec := func(id int32, v int64) *connect.Record {
		return &connect.Record{Topic: "range", Offset: offsets.Add(1), Value: connect.NewStruct(schema).Put("id", id).Put("small", v), ValueSchema: schema}
	}
	eachDB(t, func(t *testing.T, tdb *testDB) {
		mustExec(t, tdb.db, "CREATE TABLE range_t (id INT PRIMARY KEY, small SMALLINT NOT NULL)")
		tk := startTask(t, tdb, connect.Config{"pk.mode": "record_value", "pk.fields": "id", "insert.mode": "upsert", "table.name.format": "range_t"})
		big := rec(2, 100000)
		err := tk.Put(context.Background(), []*connect.Record{rec(1, 1), big, rec(3, 3)})
		var re *connect.RecordError
		if !errors.As(err, &re) || len(re.Failed) != 1 || re.Failed[big] == nil {
			t.Fatalf("got %v, want a RecordError for the out-of-range record", err)
		}
		put(t, tk, rec(4, 4))
		tdb.wantRows(t, "SELECT id, small FROM range_t ORDER BY id", "1|1", "3|3", "4|4")
	})
}

// Several tasks of one connector create and fill the same table at once.
func TestConcurrentTasks(t *testing.T) {
	eachDB(t, func(t *testing.T, tdb *testDB) {
		const tasks, batches, per = 3, 4, 25
		cfg := connect.Config{"auto.create": "true", "auto.evolve": "true", "pk.mode": "record_key", "insert.mode": "upsert", "table.name.format": "shared"}
		errs := make(chan error, tasks)
		for n := range tasks {
			tk := startTask(t, tdb, cfg)
			go func() {
				for b := range batches {
					var recs []*connect.Record
					for i := range per {
						id := int32(n*batches*per + b*per + i)
						recs = append(recs, user("t", id, "x", nil))
					}
					if err := tk.Put(context.Background(), recs); err != nil {
						errs <- err
						return
					}
				}
				errs <- nil
			}()
		}
		for range tasks {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		tdb.wantRows(t, "SELECT COUNT(*), COUNT(DISTINCT id) FROM shared", "300|300")
	})
}

// PostgreSQL columns of a user-defined type take the rows of a batch as one
// array of that type; a value outside an enum fails its record alone.
func TestPostgresEnumColumn(t *testing.T) {
	tdb := newTestDB(t, "postgres")
	mustExec(t, tdb.db, "CREATE TYPE "+tdb.ns+".mood AS ENUM ('ok', 'sad')")
	mustExec(t, tdb.db, "CREATE TABLE moods (id INT PRIMARY KEY, name "+tdb.ns+".mood NOT NULL, score REAL)")
	tk := startTask(t, tdb, connect.Config{"pk.mode": "record_key", "insert.mode": "upsert", "table.name.format": "moods"})
	put(t, tk, user("t", 1, "ok", 0.5), user("t", 2, "sad", nil))
	angry := user("t", 3, "angry", nil)
	err := tk.Put(context.Background(), []*connect.Record{user("t", 1, "sad", 1.5), angry, user("t", 4, "ok", nil)})
	var re *connect.RecordError
	if !errors.As(err, &re) || len(re.Failed) != 1 || re.Failed[angry] == nil {
		t.Fatalf("got %v, want a RecordError for the value outside the enum", err)
	}
	tdb.wantRows(t, "SELECT id, name::text, score FROM moods ORDER BY id", "1|sad|1.5", "2|sad|NULL", "4|ok|NULL")
}

// update mode: a batch updates existing rows (the last record of a key
// wins), skips missing ones, and a refused value fails its record alone.
func TestUpdateBatch(t *testing.T) {
	eachDB(t, func(t *testing.T, tdb *testDB) {
		mustExec(t, tdb.db, "CREATE TABLE updb (id INT PRIMARY KEY, name VARCHAR(5) NOT NULL, score DOUBLE PRECISION)")
		mustExec(t, tdb.db, "INSERT INTO updb VALUES (1, 'a', NULL), (2, 'b', NULL), (3, 'c', NULL)")
		tk := startTask(t, tdb, connect.Config{"pk.mode": "record_key", "insert.mode": "update", "table.name.format": "updb"})
		bad := user("t", 3, "too long for it", nil)
		err := tk.Put(context.Background(), []*connect.Record{user("t", 1, "a1", 1.0), user("t", 2, "b1", nil), user("t", 1, "a2", 2.0),
			bad, user("t", 9, "none", nil)})
		var re *connect.RecordError
		if !errors.As(err, &re) || len(re.Failed) != 1 || re.Failed[bad] == nil {
			t.Fatalf("got %v, want a RecordError for the too-long value", err)
		}
		tdb.wantRows(t, "SELECT id, name, score FROM updb ORDER BY id", "1|a2|2", "2|b1|NULL", "3|c|NULL")
	})
}

// The same Debezium events flattened by the ExtractNewRecordState SMT, as
// users of Confluent's sink configure it: upserts of after, the delete as
// a tombstone.
func TestAfterUnwrapSMT(t *testing.T) {
	p, ok := connect.Lookup("io.debezium.transforms.ExtractNewRecordState")
	if !ok {
		t.Fatal("ExtractNewRecordState not registered")
	}
	smt := p.NewTransform()
	if err := smt.Configure(connect.Config{}); err != nil {
		t.Fatal(err)
	}
	var recs []*connect.Record
	for _, r := range []*connect.Record{dbzEvent("c", nil, row(1, "ann")), dbzEvent("c", nil, row(2, "bob")),
		dbzEvent("u", row(1, "ann"), row(1, "anne")), dbzEvent("d", row(2, "bob"), nil), tombstone("srv.public.customers", 2)} {
		out, err := smt.Apply(r)
		if err != nil {
			t.Fatal(err)
		}
		if out != nil {
			recs = append(recs, out)
		}
	}
	eachDB(t, func(t *testing.T, tdb *testDB) {
		tk := startTask(t, tdb, connect.Config{"auto.create": "true", "pk.mode": "record_key", "insert.mode": "upsert",
			"delete.enabled": "true", "table.name.format": "unwrapped"})
		put(t, tk, recs...)
		tdb.wantRows(t, "SELECT id, name FROM unwrapped ORDER BY id", "1|anne")
	})
}
