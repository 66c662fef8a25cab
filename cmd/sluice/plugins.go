package main

// The connectors built into the binary. Each package registers its plugins
// (with their specs) in init; the runtime, the REST API and `sluice connect
// docs` list what is registered.
import (
	_ "github.com/sluicedata/sluice/connect/datagen"  // datagen source (Confluent datagen keys and quickstarts)
	_ "github.com/sluicedata/sluice/connect/file"     // FileStream-compatible source and sink
	_ "github.com/sluicedata/sluice/connect/http"     // webhook source, HTTP sink
	_ "github.com/sluicedata/sluice/connect/jdbc"     // JDBC sink (Confluent/Debezium keys) for PostgreSQL and MariaDB/MySQL
	_ "github.com/sluicedata/sluice/connect/kafka"    // Kafka replicator source
	_ "github.com/sluicedata/sluice/connect/mysql"    // mysql-cdc (Debezium's MySqlConnector and MariaDbConnector)
	_ "github.com/sluicedata/sluice/connect/postgres" // postgres-cdc (Debezium's PostgresConnector)
)
