package funcs

import (
	"fmt"
	"strings"
	"time"

	"github.com/sluicedata/sluice/sql/types"
)

// withFormats builds an implementation that gets per-call-site caches of
// compiled patterns and zones.
func withFormats(f func(fc *formatCache, zc *zoneCache, a []types.Value) (types.Value, error)) Impl {
	return func(in []types.Type, out types.Type) EvalFunc {
		fc, zc := &formatCache{}, &zoneCache{}
		return strict(func(a []types.Value) (types.Value, error) { return f(fc, zc, a) })(in, out)
	}
}

// zoneArg returns the zone of optional argument i (UTC when absent).
func zoneArg(zc *zoneCache, a []types.Value, i int) (*time.Location, error) {
	if len(a) <= i {
		return time.UTC, nil
	}
	return zc.get(a[i].(string))
}

// timeUnit reads a ksqlDB time unit (DAYS, HOURS, MINUTES, SECONDS,
// MILLISECONDS, singular or plural, any case). The engine passes the unit
// keyword of DATEADD and friends as a STRING argument.
func timeUnit(s string) (time.Duration, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	u = strings.TrimSuffix(u, "S")
	switch u {
	case "DAY":
		return 24 * time.Hour, nil
	case "HOUR":
		return time.Hour, nil
	case "MINUTE":
		return time.Minute, nil
	case "SECOND":
		return time.Second, nil
	case "MILLISECOND":
		return time.Millisecond, nil
	case "MICROSECOND":
		return time.Microsecond, nil
	case "NANOSECOND":
		return time.Nanosecond, nil
	}
	return 0, fmt.Errorf("unknown time unit %q: use DAYS, HOURS, MINUTES, SECONDS or MILLISECONDS", s)
}

func unitMillis(unit types.Value, n types.Value) (int64, error) {
	d, err := timeUnit(unit.(string))
	if err != nil {
		return 0, err
	}
	var k int64
	switch x := n.(type) {
	case int32:
		k = int64(x)
	case int64:
		k = x
	}
	// TimeUnit.toMillis truncates sub-millisecond units.
	if d < time.Millisecond {
		return k * int64(d) / int64(time.Millisecond), nil
	}
	return k * d.Milliseconds(), nil
}

// addDays adds ms to midnight of d and truncates to days toward zero, as
// ksqlDB's DATEADD does (so before 1970 a partial day moves the date).
func addDays(d types.DateVal, ms int64) types.DateVal {
	return types.DateVal((int64(d)*types.MillisPerDay + ms) / types.MillisPerDay)
}

func dateTimeFunctions() []Function {
	unit := P("unit", PString, "DAYS, HOURS, MINUTES, SECONDS or MILLISECONDS")
	formatTS := func(fc *formatCache, zc *zoneCache, a []types.Value) (types.Value, error) {
		f, err := fc.get(a[1].(string))
		if err != nil {
			return nil, err
		}
		loc, err := zoneArg(zc, a, 2)
		if err != nil {
			return nil, err
		}
		var ms int64
		switch x := a[0].(type) {
		case types.TimestampVal:
			ms = int64(x)
		case int64:
			ms = x
		}
		return f.format(time.UnixMilli(ms).In(loc)), nil
	}
	parseTS := func(fc *formatCache, zc *zoneCache, a []types.Value) (int64, error) {
		f, err := fc.get(a[1].(string))
		if err != nil {
			return 0, err
		}
		loc, err := zoneArg(zc, a, 2)
		if err != nil {
			return 0, err
		}
		t, err := f.parse(a[0].(string), loc)
		if err != nil {
			return 0, err
		}
		return t.UnixMilli(), nil
	}
	formatDate := func(fc *formatCache, _ *zoneCache, a []types.Value) (types.Value, error) {
		f, err := fc.get(a[1].(string))
		if err != nil {
			return nil, err
		}
		if f.hasAny(jtimeLetters + "VzOXxZ") {
			return nil, fmt.Errorf("date format %q contains a time field", f.pattern)
		}
		var d types.DateVal
		switch x := a[0].(type) {
		case types.DateVal:
			d = x
		case int32:
			d = types.DateVal(x)
		}
		return f.format(d.Time()), nil
	}
	parseDate := func(fc *formatCache, _ *zoneCache, a []types.Value) (types.DateVal, error) {
		f, err := fc.get(a[1].(string))
		if err != nil {
			return 0, err
		}
		t, err := f.parse(a[0].(string), time.UTC)
		if err != nil {
			return 0, err
		}
		return types.DateOf(t), nil
	}
	tsOf := func(v types.Value) int64 { return int64(v.(types.TimestampVal)) }
	return []Function{
		fn("CONVERT_TZ", CatDateTime, "Converts a TIMESTAMP from one time zone to another (java.util.TimeZone IDs such as UTC, America/Los_Angeles, +02:00).",
			V(PTimestamp, withFormats(func(_ *formatCache, zc *zoneCache, a []types.Value) (types.Value, error) {
				from, err := zc.get(a[1].(string))
				if err != nil {
					return nil, err
				}
				to, err := zc.get(a[2].(string))
				if err != nil {
					return nil, err
				}
				// ksqlDB shifts by the difference of the zones' offsets at
				// the timestamp's instant.
				inst := a[0].(types.TimestampVal).Time()
				_, offTo := inst.In(to).Zone()
				_, offFrom := inst.In(from).Zone()
				return a[0].(types.TimestampVal) + types.TimestampVal(int64(offTo-offFrom)*1000), nil
			}), P("timestamp", PTimestamp), P("fromTz", PString), P("toTz", PString))),
		fn("DATEADD", CatDateTime, "Adds an interval (whole days of the unit) to a DATE.",
			V(PDate, strict(func(a []types.Value) (types.Value, error) {
				ms, err := unitMillis(a[0], a[1])
				if err != nil {
					return nil, err
				}
				return addDays(a[2].(types.DateVal), ms), nil
			}), unit, P("interval", PInt), P("date", PDate))),
		fn("DATESUB", CatDateTime, "Subtracts an interval (whole days of the unit) from a DATE.",
			V(PDate, strict(func(a []types.Value) (types.Value, error) {
				ms, err := unitMillis(a[0], a[1])
				if err != nil {
					return nil, err
				}
				return addDays(a[2].(types.DateVal), -ms), nil
			}), unit, P("interval", PInt), P("date", PDate))),
		fn("FORMAT_DATE", CatDateTime, "Formats a DATE with a java.time.format.DateTimeFormatter pattern.",
			V(PString, withFormats(formatDate), P("date", PDate), P("format", PString))),
		fn("FORMAT_TIME", CatDateTime, "Formats a TIME with a java.time.format.DateTimeFormatter pattern.",
			V(PString, withFormats(func(fc *formatCache, _ *zoneCache, a []types.Value) (types.Value, error) {
				f, err := fc.get(a[1].(string))
				if err != nil {
					return nil, err
				}
				if f.hasAny(jdateLetters + "VzOXxZ") {
					return nil, fmt.Errorf("time format %q contains a date field", f.pattern)
				}
				return f.format(time.UnixMilli(int64(a[0].(types.TimeVal))).UTC()), nil
			}), P("time", PTime), P("format", PString))),
		fn("FORMAT_TIMESTAMP", CatDateTime, "Formats a TIMESTAMP with a java.time.format.DateTimeFormatter pattern, in UTC or the given time zone.",
			V(PString, withFormats(formatTS), P("timestamp", PTimestamp), P("format", PString)),
			V(PString, withFormats(formatTS), P("timestamp", PTimestamp), P("format", PString), P("timeZone", PString)),
		),
		fn("FROM_DAYS", CatDateTime, "Converts a number of days since 1970-01-01 to a DATE.",
			V(PDate, strict(func(a []types.Value) (types.Value, error) { return types.DateVal(a[0].(int32)), nil }), P("days", PInt))),
		fn("FROM_UNIXTIME", CatDateTime, "Converts milliseconds since the Unix epoch to a TIMESTAMP.",
			V(PTimestamp, strict(func(a []types.Value) (types.Value, error) { return types.TimestampVal(a[0].(int64)), nil }), P("milliseconds", PBigint))),
		fn("PARSE_DATE", CatDateTime, "Parses a string into a DATE with a java.time.format.DateTimeFormatter pattern.",
			V(PDate, withFormats(func(fc *formatCache, zc *zoneCache, a []types.Value) (types.Value, error) {
				d, err := parseDate(fc, zc, a)
				if err != nil {
					return nil, err
				}
				return d, nil
			}), P("string", PString), P("format", PString))),
		fn("PARSE_TIME", CatDateTime, "Parses a string into a TIME with a java.time.format.DateTimeFormatter pattern.",
			V(PTime, withFormats(func(fc *formatCache, _ *zoneCache, a []types.Value) (types.Value, error) {
				f, err := fc.get(a[1].(string))
				if err != nil {
					return nil, err
				}
				if f.hasAny(jdateLetters) {
					return nil, fmt.Errorf("time format %q contains a date field", f.pattern)
				}
				t, err := f.parse(a[0].(string), time.UTC)
				if err != nil {
					return nil, err
				}
				return types.TimeVal(t.Hour()*3600000 + t.Minute()*60000 + t.Second()*1000 + t.Nanosecond()/1e6), nil
			}), P("string", PString), P("format", PString))),
		fn("PARSE_TIMESTAMP", CatDateTime, "Parses a string into a TIMESTAMP with a java.time.format.DateTimeFormatter pattern, in UTC or the given time zone.",
			V(PTimestamp, withFormats(func(fc *formatCache, zc *zoneCache, a []types.Value) (types.Value, error) {
				ms, err := parseTS(fc, zc, a)
				return types.TimestampVal(ms), err
			}), P("string", PString), P("format", PString)),
			V(PTimestamp, withFormats(func(fc *formatCache, zc *zoneCache, a []types.Value) (types.Value, error) {
				ms, err := parseTS(fc, zc, a)
				return types.TimestampVal(ms), err
			}), P("string", PString), P("format", PString), P("timeZone", PString)),
		),
		fn("TIMEADD", CatDateTime, "Adds an interval to a TIME, wrapping around midnight.",
			V(PTime, strict(func(a []types.Value) (types.Value, error) {
				ms, err := unitMillis(a[0], a[1])
				if err != nil {
					return nil, err
				}
				return types.TimeVal(((int64(a[2].(types.TimeVal))+ms)%types.MillisPerDay + types.MillisPerDay) % types.MillisPerDay), nil
			}), unit, P("interval", PInt), P("time", PTime))),
		fn("TIMESUB", CatDateTime, "Subtracts an interval from a TIME, wrapping around midnight.",
			V(PTime, strict(func(a []types.Value) (types.Value, error) {
				ms, err := unitMillis(a[0], a[1])
				if err != nil {
					return nil, err
				}
				return types.TimeVal(((int64(a[2].(types.TimeVal))-ms)%types.MillisPerDay + types.MillisPerDay) % types.MillisPerDay), nil
			}), unit, P("interval", PInt), P("time", PTime))),
		fn("TIMESTAMPADD", CatDateTime, "Adds an interval to a TIMESTAMP.",
			V(PTimestamp, strict(func(a []types.Value) (types.Value, error) {
				ms, err := unitMillis(a[0], a[1])
				if err != nil {
					return nil, err
				}
				return types.TimestampVal(tsOf(a[2]) + ms), nil
			}), unit, P("interval", PInt), P("timestamp", PTimestamp))),
		fn("TIMESTAMPSUB", CatDateTime, "Subtracts an interval from a TIMESTAMP.",
			V(PTimestamp, strict(func(a []types.Value) (types.Value, error) {
				ms, err := unitMillis(a[0], a[1])
				if err != nil {
					return nil, err
				}
				return types.TimestampVal(tsOf(a[2]) - ms), nil
			}), unit, P("interval", PInt), P("timestamp", PTimestamp))),
		fn("UNIX_DATE", CatDateTime, "Returns a DATE as days since 1970-01-01, or today's (UTC) when called without one.",
			V(PInt, lenient(func([]types.Value) (types.Value, error) { return int32(types.DateOf(time.Now().UTC())), nil })),
			V(PInt, strict(func(a []types.Value) (types.Value, error) { return int32(a[0].(types.DateVal)), nil }), P("date", PDate)),
		),
		fn("UNIX_TIMESTAMP", CatDateTime, "Returns a TIMESTAMP as milliseconds since the Unix epoch, or the current time when called without one.",
			V(PBigint, lenient(func([]types.Value) (types.Value, error) { return time.Now().UnixMilli(), nil })),
			V(PBigint, strict(func(a []types.Value) (types.Value, error) { return tsOf(a[0]), nil }), P("timestamp", PTimestamp)),
		),
		fn("DATETOSTRING", CatDateTime, "Deprecated (use FORMAT_DATE): formats days since 1970-01-01 with a DateTimeFormatter pattern.",
			V(PString, withFormats(formatDate), P("epochDays", PInt), P("format", PString))),
		fn("STRINGTODATE", CatDateTime, "Deprecated (use PARSE_DATE): parses a string into days since 1970-01-01.",
			V(PInt, withFormats(func(fc *formatCache, zc *zoneCache, a []types.Value) (types.Value, error) {
				d, err := parseDate(fc, zc, a)
				if err != nil {
					return nil, err
				}
				return int32(d), nil
			}), P("formattedDate", PString), P("format", PString))),
		fn("STRINGTOTIMESTAMP", CatDateTime, "Deprecated (use PARSE_TIMESTAMP): parses a string into milliseconds since the Unix epoch, in UTC or the given time zone.",
			V(PBigint, withFormats(func(fc *formatCache, zc *zoneCache, a []types.Value) (types.Value, error) {
				ms, err := parseTS(fc, zc, a)
				if err != nil {
					return nil, err
				}
				return ms, nil
			}), P("formattedTimestamp", PString), P("format", PString)),
			V(PBigint, withFormats(func(fc *formatCache, zc *zoneCache, a []types.Value) (types.Value, error) {
				ms, err := parseTS(fc, zc, a)
				if err != nil {
					return nil, err
				}
				return ms, nil
			}), P("formattedTimestamp", PString), P("format", PString), P("timeZone", PString)),
		),
		fn("TIMESTAMPTOSTRING", CatDateTime, "Deprecated (use FORMAT_TIMESTAMP): formats milliseconds since the Unix epoch, in UTC or the given time zone.",
			V(PString, withFormats(formatTS), P("epochMilli", PBigint), P("format", PString)),
			V(PString, withFormats(formatTS), P("epochMilli", PBigint), P("format", PString), P("timeZone", PString)),
		),
	}
}
