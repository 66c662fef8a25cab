// Package state holds the durable state of stateful SQL queries: pebble
// stores on local disk, each backed by a compacted changelog topic, as Kafka
// Streams' state stores (and so ksqlDB's) are.
//
// # Stores
//
// A store belongs to one (query, store name, input partition). [Stores]
// opens them for one query:
//
//   - [KeyValueStore]: Get/Put/Delete, Range and Prefix scans in byte order;
//     every value keeps the timestamp of the record that wrote it (the
//     timestamped variant Kafka Streams uses for stream-table joins).
//   - [WindowStore]: values by (key, window start) for tumbling and hopping
//     windows; Fetch by key over a time range, FetchAll over time; windows
//     older than the retention are dropped.
//   - [SessionStore]: values by (key, session start, session end);
//     FindSessions returns the sessions a new record may merge with.
//
// # Changelog
//
// Every write goes to the local store and to the changelog topic
// `_confluent-ksql-<service>query_<id>-<store>-changelog`, one changelog
// partition per input partition, through the [Producer] the caller gives
// (a *kgo.Client or the query's *kgo.GroupTransactSession, so that under
// exactly_once_v2 the changelog writes are in the query's transaction).
// Changelog keys are the ones Kafka Streams writes, so compaction keeps the
// latest value per key: the plain key for key-value stores, key + window
// start (8 bytes) + sequence number (4 bytes) for window stores, key +
// session end + session start (8 bytes each) for session stores. Deletes are
// tombstones. The producer must send changelog records to the partition the
// record names: wrap its partitioner with [Partitioner].
//
// # Commit protocol
//
// Writes go to one pebble batch per store (reads see it) until the caller
// ends the processed poll batch:
//
//   - at-least-once: produce outputs, flush the producer, call
//     [Stores.Commit], then commit the input offsets;
//   - exactly_once_v2: end the transaction; if it committed call
//     [Stores.Commit], if it aborted call [Stores.Abort].
//
// Commit writes the batch and the checkpoint (the changelog offset the store
// now reflects) in one atomic pebble write, so local data and checkpoint never
// disagree. Abort drops the batch: the store is back at its last commit.
//
// # Restore
//
// Opening a store reads its checkpoint and replays the changelog from there
// to the last stable offset, read_committed (so writes of aborted
// transactions are never restored). A missing data directory has checkpoint
// 0 and is rebuilt from the changelog alone; a checkpoint beyond the end of
// the changelog (the topic was recreated) wipes the local store first.
// [Stores.ClosePartition] closes the stores of a revoked partition and keeps
// them on disk, so a later reassignment only replays the tail.
package state
