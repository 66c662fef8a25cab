-- Examples in the style of ksqlDB's documentation (quickstart, how-to guides,
-- tutorials, syntax reference), written to exercise the same forms.
CREATE STREAM riderLocations (profileId VARCHAR, latitude DOUBLE, longitude DOUBLE) WITH (kafka_topic='locations', value_format='json', partitions=1);
CREATE TABLE currentLocation AS SELECT profileId, LATEST_BY_OFFSET(latitude) AS la, LATEST_BY_OFFSET(longitude) AS lo FROM riderlocations GROUP BY profileId EMIT CHANGES;
CREATE TABLE ridersNearMountainView AS SELECT ROUND(GEO_DISTANCE(la, lo, 37.4133, -122.1162), -1) AS distanceInMiles, COLLECT_LIST(profileId) AS riders, COUNT(*) AS count FROM currentLocation GROUP BY ROUND(GEO_DISTANCE(la, lo, 37.4133, -122.1162), -1);
SELECT * FROM riderLocations WHERE GEO_DISTANCE(latitude, longitude, 37.4133, -122.1162) <= 5 EMIT CHANGES;
INSERT INTO riderLocations (profileId, latitude, longitude) VALUES ('c2309eec', 37.7877, -122.4205);
INSERT INTO riderLocations (profileId, latitude, longitude) VALUES ('18f4ea86', 37.3903, -122.0643);
SELECT * FROM ridersNearMountainView WHERE distanceInMiles <= 10;
CREATE STREAM s2 AS SELECT * FROM s1 EMIT CHANGES;
CREATE TABLE t2 AS SELECT k, COUNT(*) AS c FROM s1 GROUP BY k EMIT CHANGES;
-- Structured data.
CREATE STREAM people (name VARCHAR, address STRUCT<street VARCHAR, number INTEGER, zip INTEGER>, phones ARRAY<VARCHAR>, attributes MAP<VARCHAR, VARCHAR>) WITH (kafka_topic='people', value_format='json', partitions=1);
SELECT name, address->street, address->number, phones[1], attributes['eye_color'] FROM people EMIT CHANGES;
SELECT name, ARRAY_LENGTH(phones) AS number_of_phones, MAP_KEYS(attributes) FROM people EMIT CHANGES;
CREATE STREAM movements (person VARCHAR KEY, location VARCHAR) WITH (VALUE_FORMAT='JSON', PARTITIONS=1, KAFKA_TOPIC='movements');
CREATE TABLE person_stats WITH (VALUE_FORMAT='AVRO') AS SELECT person, LATEST_BY_OFFSET(location) AS latest_location, COUNT(*) AS location_changes, COUNT_DISTINCT(location) AS unique_locations FROM movements GROUP BY person EMIT CHANGES;
SELECT * FROM person_stats WHERE person = 'robin';
SELECT person, latest_location FROM person_stats WHERE person IN ('robin', 'allison');
-- Time and windows.
CREATE STREAM TEMPERATURE_READINGS_EVENTTIME WITH (KAFKA_TOPIC='deviceEvents', VALUE_FORMAT='JSON', TIMESTAMP='eventTime');
CREATE STREAM ORDERS_BY_TIME WITH (TIMESTAMP='order_ts', TIMESTAMP_FORMAT='yyyy-MM-dd HH:mm:ss') AS SELECT * FROM orders EMIT CHANGES;
SELECT regionid, COUNT(*) FROM pageviews WINDOW TUMBLING (SIZE 20 SECONDS, GRACE PERIOD 10 SECONDS) GROUP BY regionid EMIT CHANGES;
SELECT WINDOWSTART, WINDOWEND, regionid, COUNT(*) FROM pageviews WINDOW HOPPING (SIZE 30 SECONDS, ADVANCE BY 10 SECONDS) WHERE UCASE(gender) = 'FEMALE' AND LCASE(regionid) LIKE '%_6' GROUP BY regionid EMIT CHANGES;
CREATE TABLE pageviews_per_region_per_session AS SELECT regionid, COUNT(*) FROM pageviews WINDOW SESSION (60 SECONDS) GROUP BY regionid EMIT CHANGES;
SELECT orderzip_code, TOPK(order_total, 5) FROM orders WINDOW TUMBLING (SIZE 1 HOUR) GROUP BY orderzip_code EMIT CHANGES;
CREATE TABLE analysis WITH (KAFKA_TOPIC='analysis') AS SELECT ticker, MIN(price) AS low, MAX(price) AS high FROM trades WINDOW TUMBLING (SIZE 1 MINUTE, RETENTION 1000 DAYS) GROUP BY ticker EMIT FINAL;
-- Joins.
CREATE STREAM pageviews_enriched AS SELECT users.userid AS userid, pageid, regionid, gender FROM pageviews LEFT JOIN users ON pageviews.userid = users.userid EMIT CHANGES;
CREATE STREAM shipped_orders AS SELECT o.id AS orderId, o.itemid AS itemId, s.id AS shipmentId, p.id AS paymentId FROM orders o INNER JOIN payments p WITHIN 1 HOURS ON p.id = o.id INNER JOIN shipments s WITHIN 2 HOURS ON s.id = o.id EMIT CHANGES;
CREATE STREAM late_orders AS SELECT * FROM orders o INNER JOIN shipments s WITHIN 1 HOURS GRACE PERIOD 15 MINUTES ON o.id = s.orderid EMIT CHANGES;
CREATE TABLE orders_with_users AS SELECT * FROM orders JOIN users ON orders.user_id = users.id EMIT CHANGES;
CREATE TABLE customer_orders AS SELECT * FROM orders FULL OUTER JOIN customers ON orders.customer_id = customers.id;
SELECT * FROM left_stream AS l JOIN right_stream AS r WITHIN (1 HOUR, 2 HOURS) ON l.id = r.id EMIT CHANGES;
CREATE STREAM impressions_and_clicks AS SELECT * FROM impressions i LEFT JOIN clicks c WITHIN 1 MINUTE GRACE PERIOD 2 MINUTES ON i.user = c.user EMIT CHANGES;
-- Materialized cache tutorial.
CREATE SOURCE CONNECTOR calls_reader WITH ('connector.class' = 'io.debezium.connector.mysql.MySqlConnector', 'database.hostname' = 'mysql', 'database.port' = '3306', 'database.user' = 'example-user', 'database.password' = 'example-pw', 'database.allowPublicKeyRetrieval' = 'true', 'database.server.id' = '184054', 'database.server.name' = 'call-center-db', 'database.whitelist' = 'call-center', 'database.history.kafka.bootstrap.servers' = 'broker:9092', 'database.history.kafka.topic' = 'call-center', 'table.whitelist' = 'call-center.calls', 'include.schema.changes' = 'false');
CREATE STREAM calls WITH (kafka_topic = 'call-center-db.call-center.calls', value_format = 'avro');
CREATE TABLE support_view AS SELECT after->name AS name, COUNT_DISTINCT(after->reason) AS distinct_reasons, LATEST_BY_OFFSET(after->reason) AS last_reason FROM calls GROUP BY after->name EMIT CHANGES;
CREATE TABLE lifetime_view AS SELECT after->name AS name, COUNT(after->reason) AS total_calls, (SUM(after->duration_seconds) / 60) AS minutes_engaged FROM calls GROUP BY after->name EMIT CHANGES;
SELECT name, distinct_reasons, last_reason FROM support_view WHERE name = 'derek';
-- Streaming ETL tutorial.
CREATE SINK CONNECTOR enriched_writer WITH ('connector.class' = 'io.confluent.connect.elasticsearch.ElasticsearchSinkConnector', 'connection.url' = 'http://elastic:9200', 'type.name' = 'kafka-connect', 'topics' = 'shipped_orders');
CREATE STREAM customers WITH (kafka_topic = 'customers.public.customers', value_format = 'avro');
CREATE TABLE customers_by_key AS SELECT id, LATEST_BY_OFFSET(name) AS name, LATEST_BY_OFFSET(age) AS age FROM customers GROUP BY id EMIT CHANGES;
CREATE STREAM enriched_orders AS SELECT o.order_id, o.price, o.currency, c.customer_id, c.name AS customer_name, c.age AS customer_age FROM orders AS o LEFT JOIN customers_by_key c ON o.customer_id = c.customer_id EMIT CHANGES;
-- Event-driven microservice tutorial.
CREATE TABLE possible_anomalies WITH (kafka_topic = 'possible_anomalies', value_format = 'avro', value_avro_schema_full_name = 'io.ksqldb.tutorial.PossibleAnomaly') AS SELECT card_number AS `card_number_key`, AS_VALUE(card_number) AS `card_number`, LATEST_BY_OFFSET(email_address) AS `email_address`, COUNT(*) AS `n_attempts`, SUM(amount) AS `total_amount`, COLLECT_LIST(tx_id) AS `tx_ids`, WINDOWSTART AS `start_boundary`, WINDOWEND AS `end_boundary` FROM transactions WINDOW TUMBLING (SIZE 30 SECONDS, RETENTION 1000 DAYS) GROUP BY card_number HAVING COUNT(*) >= 3 EMIT CHANGES;
-- Functions reference.
SELECT CAST(ROWTIME AS TIMESTAMP) AS ts, FORMAT_TIMESTAMP(FROM_UNIXTIME(ROWTIME), 'yyyy-MM-dd HH:mm:ss.SSS') FROM s EMIT CHANGES;
SELECT PARSE_TIMESTAMP('2021-03-03 10:00:00', 'yyyy-MM-dd HH:mm:ss', 'UTC'), CONVERT_TZ(ts, 'UTC', 'America/Los_Angeles') FROM s EMIT CHANGES;
SELECT MASK(card, 'X', 'x', 'n', '-'), MASK_KEEP_RIGHT(card, 4), REGEXP_EXTRACT('(\w+)@', email, 1) FROM s EMIT CHANGES;
SELECT URL_EXTRACT_HOST(url), URL_EXTRACT_PARAMETER(url, 'q'), SPLIT_TO_MAP(params, '&', '=') FROM s EMIT CHANGES;
SELECT ARRAY_CONTAINS(ARRAY[1, 2, 3], 2), ARRAY_SORT(arr, 'DESC'), SLICE(arr, 1, 2), GENERATE_SERIES(1, 10, 2) FROM s EMIT CHANGES;
SELECT TRANSFORM(lambda_map, (k, v) => UCASE(k), (k, v) => v + 5) FROM stream1 EMIT CHANGES;
SELECT REDUCE(scores, 0, (s, x) => (s + x)) AS total FROM stream2 EMIT CHANGES;
SELECT FILTER(numbers, x => (x % 2 = 0)) AS evens FROM stream3 EMIT CHANGES;
SELECT id, CASE WHEN total > 100 THEN 'large' WHEN total > 10 THEN 'medium' ELSE 'small' END AS size FROM orders EMIT CHANGES;
SELECT * FROM clicks WHERE ip_address IS NOT NULL AND url LIKE 'https://%' AND status BETWEEN 200 AND 299 EMIT CHANGES;
-- Case of identifiers.
CREATE STREAM `s2-mixed` (`Id` INT KEY, `MiXeD` STRING, upper STRING) WITH (kafka_topic='s2', value_format='json');
SELECT `Id`, `MiXeD`, upper FROM `s2-mixed` EMIT CHANGES;
-- Headers.
CREATE STREAM a (k STRING KEY, v STRING, hs ARRAY<STRUCT<key STRING, value BYTES>> HEADERS) WITH (kafka_topic='a', value_format='json');
CREATE STREAM b (k STRING KEY, v STRING, x BYTES HEADER('abc')) WITH (kafka_topic='b', value_format='json');
-- Pseudo columns and ROWKEY.
SELECT ROWPARTITION, ROWOFFSET, ROWTIME FROM s WHERE ROWOFFSET > 100 EMIT CHANGES;
INSERT INTO s (ROWTIME, k, v) VALUES (1620000000000, 'k1', 'v1');
