-- CREATE STREAM / TABLE with columns, constraints and WITH properties.
CREATE STREAM pageviews (viewtime BIGINT, userid VARCHAR, pageid VARCHAR) WITH (kafka_topic='pageviews', value_format='JSON');
CREATE STREAM pageviews (page_id BIGINT KEY, viewtime BIGINT, user_id VARCHAR) WITH (KAFKA_TOPIC = 'keyed-pageviews-topic', VALUE_FORMAT = 'JSON');
CREATE STREAM s1 (id INT KEY, name STRING) WITH (kafka_topic='s1', partitions=3, replicas=1, format='JSON');
CREATE STREAM IF NOT EXISTS s2 (k STRING KEY, v DOUBLE) WITH (kafka_topic='s2', key_format='KAFKA', value_format='AVRO');
CREATE OR REPLACE STREAM s3 (a INT, b BIGINT, c DOUBLE, d BOOLEAN, e STRING, f BYTES, g DATE, h TIME, i TIMESTAMP) WITH (kafka_topic='s3', value_format='JSON');
CREATE SOURCE STREAM readonly_s (id BIGINT KEY, payload STRING) WITH (kafka_topic='ro', value_format='JSON');
CREATE SOURCE TABLE readonly_t (id BIGINT PRIMARY KEY, payload STRING) WITH (kafka_topic='ro_t', value_format='JSON');
CREATE OR REPLACE SOURCE TABLE IF NOT EXISTS readonly_t2 (id BIGINT PRIMARY KEY) WITH (kafka_topic='ro_t2', format='JSON');
CREATE TABLE users (registertime BIGINT, gender VARCHAR, regionid VARCHAR, userid VARCHAR PRIMARY KEY) WITH (kafka_topic='users', value_format='JSON');
CREATE TABLE IF NOT EXISTS t1 (id INT PRIMARY KEY, v DECIMAL(10, 2)) WITH (kafka_topic='t1', value_format='JSON', partitions=6);
CREATE TABLE t2 (k1 STRING PRIMARY KEY, k2 INT PRIMARY KEY, v STRING) WITH (kafka_topic='t2', key_format='JSON', value_format='JSON');
CREATE STREAM with_headers (id INT, hs ARRAY<STRUCT<key STRING, value BYTES>> HEADERS) WITH (kafka_topic='h', value_format='JSON');
CREATE STREAM with_header (id INT, trace BYTES HEADER('trace-id'), span BYTES HEADER('span''s id')) WITH (kafka_topic='h2', value_format='JSON');
CREATE STREAM nested (id INT KEY, address STRUCT<street STRING, city STRING, zip INT>, tags ARRAY<STRING>, attrs MAP<STRING, INT>) WITH (kafka_topic='nested', value_format='JSON');
CREATE STREAM deep (m MAP<VARCHAR, ARRAY<STRUCT<a DECIMAL(4, 2), `b c` ARRAY<MAP<STRING, BOOLEAN>>>>>) WITH (kafka_topic='deep', value_format='JSON');
CREATE STREAM empty_struct (s STRUCT<>) WITH (kafka_topic='e', value_format='JSON');
CREATE STREAM quoted_names (`lower` INT, "Mixed Case" STRING, `back``tick` BIGINT) WITH (kafka_topic='q', value_format='JSON');
CREATE STREAM `my-stream` (id INT) WITH (kafka_topic='my-stream', value_format='JSON');
CREATE STREAM custom_typed (id INT KEY, addr ADDRESS, addrs ARRAY<ADDRESS>, m MAP<STRING, `person`>) WITH (kafka_topic='ct', value_format='JSON');
CREATE STREAM inferred WITH (kafka_topic='inferred', value_format='AVRO');
CREATE TABLE inferred_t (id INT PRIMARY KEY) WITH (kafka_topic='it', value_format='AVRO', key_format='KAFKA');
CREATE STREAM pinned WITH (kafka_topic='pinned', format='AVRO', key_schema_id=1, value_schema_id=2);
CREATE STREAM named_schema (id INT KEY, v STRING) WITH (kafka_topic='ns', key_format='AVRO', value_format='AVRO', key_schema_full_name='io.sluice.Key', value_schema_full_name='io.sluice.Value');
CREATE STREAM ts_stream (id INT, ts STRING) WITH (kafka_topic='ts', value_format='JSON', timestamp='ts', timestamp_format='yyyy-MM-dd''T''HH:mm:ssX');
CREATE STREAM unwrapped (v INT) WITH (kafka_topic='uw', value_format='JSON', wrap_single_value=false);
CREATE STREAM delimited (a INT, b STRING) WITH (kafka_topic='del', value_format='DELIMITED', value_delimiter='|', key_delimiter=',');
CREATE TABLE windowed_t (k STRING PRIMARY KEY, c BIGINT) WITH (kafka_topic='wt', value_format='JSON', window_type='Hopping', window_size='30 SECONDS');
CREATE TABLE retained (k STRING PRIMARY KEY, c BIGINT) WITH (kafka_topic='rt', value_format='JSON', retention_ms=604800000, cleanup_policy='compact');
CREATE STREAM proto_nullable (id INT) WITH (kafka_topic='pn', value_format='PROTOBUF', value_protobuf_nullable_representation='WRAPPER');
CREATE STREAM numeric_props (id INT) WITH (kafka_topic='np', value_format='JSON', partitions=-1, replicas=1.5, "Quoted_Prop"=1E3, 'x.y'=NULL, flag=TRUE);
CREATE STREAM keyword_cols (`select` INT, `from` STRING, key STRING, value STRING, timestamp BIGINT, type STRING, id INT, `id` INT) WITH (kafka_topic='kw', value_format='JSON');
create stream lower_case (Id int key, Name varchar) with (kafka_topic='lc', value_format='json');
CREATE STREAM
  multi_line (
    id INT KEY, -- the key
    /* a block
       comment */ name STRING
  )
  WITH (kafka_topic = 'ml', value_format = 'JSON');
-- Custom types.
CREATE TYPE ADDRESS AS STRUCT<number INTEGER, street VARCHAR, city VARCHAR>;
CREATE TYPE IF NOT EXISTS person AS STRUCT<name VARCHAR, address ADDRESS>;
CREATE TYPE money AS DECIMAL(12, 2);
CREATE TYPE tags AS ARRAY<STRING>;
CREATE TYPE `Nested` AS MAP<STRING, STRUCT<a ARRAY<ADDRESS>>>;
DROP TYPE ADDRESS;
DROP TYPE IF EXISTS person;
-- ALTER.
ALTER STREAM s1 ADD COLUMN c3 INT;
ALTER TABLE t1 ADD c4 STRING, ADD COLUMN c5 ARRAY<INT>, ADD c6 STRUCT<a INT>;
ALTER STREAM `my-stream` ADD COLUMN `new col` MAP<STRING, DOUBLE>;
-- DROP.
DROP STREAM s1;
DROP STREAM IF EXISTS s2;
DROP STREAM s3 DELETE TOPIC;
DROP TABLE IF EXISTS t1 DELETE TOPIC;
DROP TABLE users;
-- Connectors.
CREATE SOURCE CONNECTOR jdbc_source WITH ('connector.class' = 'io.confluent.connect.jdbc.JdbcSourceConnector', 'connection.url' = 'jdbc:postgresql://localhost:5432/db', 'mode' = 'incrementing', 'incrementing.column.name' = 'id', 'topic.prefix' = 'jdbc_', 'key' = 'username');
CREATE SINK CONNECTOR elastic_sink WITH ('connector.class' = 'io.confluent.connect.elasticsearch.ElasticsearchSinkConnector', 'topics' = 'orders', 'tasks.max' = 2);
CREATE SOURCE CONNECTOR IF NOT EXISTS pg WITH ("connector.class"='io.debezium.connector.postgresql.PostgresConnector', 'database.hostname'='localhost');
CREATE SINK CONNECTOR IF NOT EXISTS `Sink-1` WITH ('connector.class'='FileStreamSink', 'file'='/tmp/out.txt', 'topics'='t');
DROP CONNECTOR jdbc_source;
DROP CONNECTOR IF EXISTS `Sink-1`;
