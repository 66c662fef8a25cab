// Package compat drives a real `sluice dev` process with independent Kafka
// clients (kcat/librdkafka, kafkajs, franz-go) and checks what they read back.
//
// TestMain builds the sluice binary once (or uses $SLUICE_COMPAT_BINARY, for
// example a -race build) and each test starts its own broker on free loopback
// ports with a temporary data directory. The tests need kcat and node with
// test/compat/kafkajs/node_modules installed; .ci/run installs both. Outside
// CI (CI != "true") a missing tool skips the test that needs it; in CI it fails.
package compat
