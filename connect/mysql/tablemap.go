package mysql

import (
	"strconv"
	"strings"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
)

// With binlog_row_metadata=FULL every Table_map event carries the table's
// column names, signedness, enum/set labels and primary key: the definition
// the rows were written with. The task decodes with its tracked definition
// (richer: TINYINT(1), MariaDB's JSON) while the binlog agrees with it, and
// rebuilds it from the Table_map when it does not: a table created and
// dropped before the task read information_schema, or several DDLs of one
// table read after all of them ran.

// tableMapAgrees says whether the tracked definition matches the event's
// columns. Without column names in the binlog only the count is compared.
func tableMapAgrees(def *tableDef, tm *replication.TableMapEvent) bool {
	if int(tm.ColumnCount) != len(def.Columns) {
		return false
	}
	names := tm.ColumnNameString()
	if len(names) != len(def.Columns) {
		return true
	}
	for i, n := range names {
		if !strings.EqualFold(n, def.Columns[i].Name) {
			return false
		}
	}
	return true
}

// defFromTableMap builds a definition from a Table_map event with full
// metadata, reusing old's columns where name and type agree. ok is false
// without column names.
func defFromTableMap(tm *replication.TableMapEvent, old *tableDef) (*tableDef, bool) {
	names := tm.ColumnNameString()
	if len(names) != int(tm.ColumnCount) {
		return nil, false
	}
	d := &tableDef{DB: string(tm.Schema), Name: string(tm.Table)}
	oldCols := map[string]column{}
	if old != nil {
		d.Charset = old.Charset
		for _, c := range old.Columns {
			oldCols[strings.ToLower(c.Name)] = c
		}
	}
	unsigned := tm.UnsignedMap()
	collation := tm.CollationMap()
	enums, sets := tm.EnumStrValueMap(), tm.SetStrValueMap()
	for i, name := range names {
		col := binlogColumn(tm, i, unsigned[i], collation, enums[i], sets[i])
		col.Name = name
		if _, nullable := tm.Nullable(i); nullable {
			col.Nullable = true
		}
		if o, ok := oldCols[strings.ToLower(name)]; ok && sameFamily(o, col) {
			o.Name = name
			o.Nullable = col.Nullable
			col = o
		}
		d.Columns = append(d.Columns, col)
	}
	for _, k := range tm.PrimaryKey {
		if int(k) < len(names) {
			d.PK = append(d.PK, names[k])
		}
	}
	return d, true
}

// sameFamily says whether a tracked column describes what the binlog shows.
func sameFamily(tracked, binlog column) bool {
	if tracked.DataType == binlog.DataType {
		return tracked.Scale == binlog.Scale || binlog.DataType != "datetime" && binlog.DataType != "timestamp" && binlog.DataType != "time" && binlog.DataType != "decimal"
	}
	switch tracked.DataType {
	case "json":
		return binlog.DataType == "text" || binlog.DataType == "json"
	case "bool", "boolean":
		return binlog.DataType == "tinyint"
	case "tinytext", "mediumtext", "longtext":
		return binlog.DataType == "text"
	case "tinyblob", "mediumblob", "longblob":
		return binlog.DataType == "blob"
	case "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon", "geometrycollection", "geomcollection":
		return binlog.DataType == "geometry"
	case "integer":
		return binlog.DataType == "int"
	case "numeric":
		return binlog.DataType == "decimal"
	}
	return false
}

const binaryCollation = 63

func binlogColumn(tm *replication.TableMapEvent, i int, unsigned bool, collation map[int]uint64, enum, set []string) column {
	meta := tm.ColumnMeta[i]
	typ := tm.ColumnType[i]
	if typ == gomysql.MYSQL_TYPE_STRING {
		if rt := byte(meta >> 8); rt == gomysql.MYSQL_TYPE_ENUM || rt == gomysql.MYSQL_TYPE_SET {
			typ = rt
		}
	}
	isBinary := collation != nil && collation[i] == binaryCollation
	u := ""
	if unsigned {
		u = " unsigned"
	}
	c := column{}
	set1 := func(dt, ct string) { c.DataType, c.ColumnType = dt, ct }
	switch typ {
	case gomysql.MYSQL_TYPE_TINY:
		set1("tinyint", "tinyint(4)"+u)
	case gomysql.MYSQL_TYPE_SHORT:
		set1("smallint", "smallint(6)"+u)
	case gomysql.MYSQL_TYPE_INT24:
		set1("mediumint", "mediumint(9)"+u)
	case gomysql.MYSQL_TYPE_LONG:
		set1("int", "int(11)"+u)
	case gomysql.MYSQL_TYPE_LONGLONG:
		set1("bigint", "bigint(20)"+u)
	case gomysql.MYSQL_TYPE_FLOAT:
		set1("float", "float")
	case gomysql.MYSQL_TYPE_DOUBLE:
		set1("double", "double")
	case gomysql.MYSQL_TYPE_NEWDECIMAL:
		c.Precision, c.Scale = int(meta>>8), int(meta&0xff)
		set1("decimal", "decimal("+strconv.Itoa(c.Precision)+","+strconv.Itoa(c.Scale)+")"+u)
	case gomysql.MYSQL_TYPE_BIT:
		c.Precision = int(meta>>8)*8 + int(meta&0xff)
		set1("bit", "bit("+strconv.Itoa(c.Precision)+")")
	case gomysql.MYSQL_TYPE_DATE, gomysql.MYSQL_TYPE_NEWDATE:
		set1("date", "date")
	case gomysql.MYSQL_TYPE_DATETIME, gomysql.MYSQL_TYPE_DATETIME2:
		c.Scale = int(meta)
		set1("datetime", "datetime")
	case gomysql.MYSQL_TYPE_TIMESTAMP, gomysql.MYSQL_TYPE_TIMESTAMP2:
		c.Scale = int(meta)
		set1("timestamp", "timestamp")
	case gomysql.MYSQL_TYPE_TIME, gomysql.MYSQL_TYPE_TIME2:
		c.Scale = int(meta)
		set1("time", "time")
	case gomysql.MYSQL_TYPE_YEAR:
		set1("year", "year(4)")
	case gomysql.MYSQL_TYPE_VARCHAR, gomysql.MYSQL_TYPE_VAR_STRING:
		if isBinary {
			set1("varbinary", "varbinary")
		} else {
			set1("varchar", "varchar")
		}
	case gomysql.MYSQL_TYPE_STRING:
		if isBinary {
			set1("binary", "binary")
		} else {
			set1("char", "char")
		}
	case gomysql.MYSQL_TYPE_ENUM:
		set1("enum", "enum("+quoteLabels(enum)+")")
	case gomysql.MYSQL_TYPE_SET:
		set1("set", "set("+quoteLabels(set)+")")
	case gomysql.MYSQL_TYPE_BLOB, gomysql.MYSQL_TYPE_TINY_BLOB, gomysql.MYSQL_TYPE_MEDIUM_BLOB, gomysql.MYSQL_TYPE_LONG_BLOB:
		if isBinary {
			set1("blob", "blob")
		} else {
			set1("text", "text")
		}
	case gomysql.MYSQL_TYPE_JSON:
		set1("json", "json")
	case gomysql.MYSQL_TYPE_GEOMETRY:
		set1("geometry", "geometry")
	default:
		set1("unknown", "unknown")
	}
	return c
}

func quoteLabels(vals []string) string {
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = "'" + strings.ReplaceAll(v, "'", "''") + "'"
	}
	return strings.Join(q, ",")
}
