-- Literals.
SELECT 1, -1, 2147483647, -2147483648, 2147483648, -2147483649, 9223372036854775807, -9223372036854775808 FROM s;
SELECT 1.5, -1.5, 0.05, .5, 1., 10.00, 123456789012345678901234567890.123 FROM s;
SELECT 1.5E3, 1e-3, -2.5E+10, .5e2, 1E0 FROM s;
SELECT 'text', '', 'it''s', 'multi
line', TRUE, FALSE, NULL, true, null FROM s;
-- Identifiers, qualification, dereference, subscripts.
SELECT a, A, `a`, "a", s.a, `s`.`a`, s.`Mixed` FROM s;
SELECT a->b, a->b->c, a->`lower`, s.a->b, a[1], a[-1], m['key'], a[1]->b[2]->c, m['k'][0] FROM s;
SELECT (a)[1], (CAST(x AS ARRAY<INT>))[1], ARRAY[1, 2, 3][2], MAP('a' := 1)['a'], STRUCT(x := 1)->x FROM s;
-- Function calls.
SELECT COUNT(*), COUNT(a), UCASE(name), CONCAT(a, b, c), NOW(), SUBSTRING(s, 1, 3), `lower_udf`(x) FROM s;
SELECT TIMESTAMPADD(MINUTES, 5, ts), TIMESTAMPSUB(DAYS, 1, ts), DATEADD(DAY, 2, d), TIMEADD(HOURS, 1, t), TIMESUB(SECOND, 10, t) FROM s;
SELECT TIMESTAMPADD(MILLISECONDS, -5, ts), DATESUB(DAYS, n * 2, d) FROM s;
SELECT IFNULL(a, 0), COALESCE(a, b, 'x'), NULLIF(a, b), GREATEST(1, 2, 3), LEAST(a, b) FROM s;
SELECT EXTRACTJSONFIELD(payload, '$.user.name'), JSON_RECORDS(j), TO_JSON_STRING(STRUCT(a := 1)) FROM s;
SELECT REPLACE(a, 'x', 'y'), IF(a, b, c), SPLIT(a, ','), ARRAY_LENGTH(arr) FROM s;
-- CAST.
SELECT CAST(a AS INT), CAST(a AS INTEGER), CAST(a AS BIGINT), CAST(a AS DOUBLE), CAST(a AS DECIMAL(5, 2)), CAST(a AS STRING), CAST(a AS VARCHAR) FROM s;
SELECT CAST(a AS BOOLEAN), CAST(a AS BYTES), CAST(a AS DATE), CAST(a AS TIME), CAST(a AS TIMESTAMP) FROM s;
SELECT CAST(a AS ARRAY<STRING>), CAST(a AS MAP<STRING, INT>), CAST(a AS STRUCT<x INT, `y` STRING>), CAST(a AS ADDRESS) FROM s;
SELECT CAST(CAST(a AS STRING) AS INT) + 1, CAST(a + b AS DOUBLE) FROM s;
-- CASE.
SELECT CASE WHEN a > 0 THEN 'pos' WHEN a < 0 THEN 'neg' ELSE 'zero' END FROM s;
SELECT CASE WHEN a IS NULL THEN 0 END FROM s;
SELECT CASE a WHEN 1 THEN 'one' WHEN 2 THEN 'two' ELSE 'many' END FROM s;
SELECT CASE a + 1 WHEN b THEN c END, CASE WHEN x THEN CASE y WHEN 1 THEN 2 END END FROM s;
-- Predicates.
SELECT * FROM s WHERE a BETWEEN 1 AND 10;
SELECT * FROM s WHERE a NOT BETWEEN 1 AND 10 AND b BETWEEN 'a' AND 'm';
SELECT * FROM s WHERE a BETWEEN b + 1 AND c * 2 OR d NOT BETWEEN -1 AND 1;
SELECT * FROM s WHERE name LIKE 'a%';
SELECT * FROM s WHERE name NOT LIKE '%b_' AND code LIKE '50!%' ESCAPE '!';
SELECT * FROM s WHERE name LIKE CONCAT(prefix, '%');
SELECT * FROM s WHERE a IN (1, 2, 3);
SELECT * FROM s WHERE a NOT IN ('x', 'y') AND b IN (c, d + 1);
SELECT * FROM s WHERE a IS NULL OR b IS NOT NULL;
SELECT * FROM s WHERE a IS DISTINCT FROM b;
SELECT * FROM s WHERE a IS NOT DISTINCT FROM NULL;
SELECT * FROM s WHERE a = 1 AND b <> 2 AND c != 3 AND d < 4 AND e <= 5 AND f > 6 AND g >= 7;
-- Boolean logic and precedence.
SELECT * FROM s WHERE a OR b AND c;
SELECT * FROM s WHERE (a OR b) AND c;
SELECT * FROM s WHERE NOT a AND b;
SELECT * FROM s WHERE NOT (a AND b);
SELECT * FROM s WHERE NOT a = b;
SELECT * FROM s WHERE NOT NOT a;
SELECT * FROM s WHERE a AND NOT b OR NOT c AND d;
SELECT * FROM s WHERE (a = b) = (c = d);
SELECT * FROM s WHERE a = (NOT b);
SELECT * FROM s WHERE (a IS NULL) IS NOT NULL;
SELECT * FROM s WHERE (a BETWEEN 1 AND 2) = TRUE;
-- Arithmetic and precedence.
SELECT a + b * c, (a + b) * c, a - b - c, a - (b - c), a / b / c, a / (b / c), a % b * c, a * (b % c) FROM s;
SELECT -a, - -a, -(-a), +a, -a * b, -(a * b), - (a + b), -(5), -(1.5), - 5, -a[1], -(5[1]) FROM s;
-- (a--1 below starts a comment, as in ksqlDB)
SELECT a + -b, a - -1, a * -1.5, a--1
FROM s;
SELECT a || b, a || b || c, a || (b || c), a + b || c, a || b + c, (a || b) + c FROM s;
SELECT 'a' + 'b', name + '!' FROM s;
SELECT a + b = c + d, a * 2 > b / 2 FROM s;
-- AT TIME ZONE.
SELECT ts AT TIME ZONE 'UTC', FORMAT_TIMESTAMP(ts AT TIME ZONE 'Europe/Paris', 'yyyy') FROM s;
SELECT (a + b) AT TIME ZONE 'UTC', -ts AT TIME ZONE 'UTC', (-ts) AT TIME ZONE 'UTC' FROM s;
-- Constructors.
SELECT ARRAY[1, 2, 3], ARRAY[], ARRAY['a', NULL], ARRAY[ARRAY[1], ARRAY[2, 3]] FROM s;
SELECT MAP('a' := 1, 'b' := 2), MAP(), MAP(k := v), MAP('n' := MAP('m' := 1)) FROM s;
SELECT STRUCT(a := 1, b := 'x'), STRUCT(), STRUCT(`lower` := 1, n := STRUCT(x := ARRAY[1])) FROM s;
-- Lambdas.
SELECT TRANSFORM(arr, x => x * 2) FROM s;
SELECT TRANSFORM(m, (k, v) => UCASE(k), (k, v) => v + 1) FROM s;
SELECT FILTER(arr, x => x > 0 AND x < 10), FILTER(m, (k, v) => k LIKE 'a%') FROM s;
SELECT REDUCE(arr, 0, (acc, x) => acc + x), REDUCE(m, '', (s, k, v) => CONCAT(s, k)) FROM s;
SELECT TRANSFORM(arr, x => TRANSFORM(x, y => y + x)), TRANSFORM(arr, x => x->field), TRANSFORM(arr, x => x[1]) FROM s;
SELECT TRANSFORM(arr, x => CASE WHEN x IS NULL THEN 0 ELSE x END), TRANSFORM(arr, (x) => x + col) FROM s;
SELECT TRANSFORM(arr, `x` => `x` + 1), TRANSFORM(arr, x => (x + 1) * 2) FROM s;
-- Mixed.
SELECT ABS(-a) + ROUND(b, 2) * 3 AS v, CASE WHEN a[1] > MAP('a' := 1)['a'] THEN STRUCT(x := -1.5E1) END FROM s WHERE NOT a IN (1) AND b->c IS NOT NULL;
SELECT * FROM s WHERE a = 'x' AND (b = 1 OR c LIKE '%y' OR d BETWEEN 1 AND 2) AND e IS NOT DISTINCT FROM f;
