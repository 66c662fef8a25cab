package postgres

import (
	"strconv"
	"time"

	"github.com/sluicedata/sluice/connect"
	"github.com/sluicedata/sluice/sql/types"
)

// fallback is the value of a required (NOT NULL) column the server did not
// send: the non-key columns of a delete's old tuple under REPLICA IDENTITY
// DEFAULT, or a NaN NUMERIC. As Debezium does, it is the schema's default,
// else the zero value of the column's type, so that the event still fits
// its schema (a null would make the converter fail the whole task).
func fallback(s *connect.Schema) any {
	if s.Default != nil {
		return s.Default
	}
	switch s.Name {
	case connect.DecimalName:
		scale, _ := strconv.Atoi(s.Parameters["scale"])
		return types.NewDec(0, scale)
	case connect.DateName, connect.TimeName, connect.TimestampName:
		return time.Unix(0, 0).UTC()
	}
	switch s.Type {
	case connect.Int8:
		return int8(0)
	case connect.Int16:
		return int16(0)
	case connect.Int32:
		return int32(0)
	case connect.Int64:
		return int64(0)
	case connect.Float32:
		return float32(0)
	case connect.Float64:
		return float64(0)
	case connect.Boolean:
		return false
	case connect.String:
		return ""
	case connect.Bytes:
		return []byte{}
	case connect.Array:
		return []any{}
	case connect.Map:
		return map[string]any{}
	case connect.Struct:
		v := connect.NewStruct(s)
		for i, f := range s.Fields {
			if !f.Schema.Optional {
				v.Values[i] = fallback(f.Schema)
			}
		}
		return v
	}
	return nil
}
