#!/usr/bin/env bash
# Server settings the integration tests need on this machine's services.
# Idempotent: each part checks the setting, changes it and restarts the
# service only when needed. Called by .ci/run before the tests; run it by hand
# on a fresh machine too. Each service has its own function: add yours below.
set -euo pipefail

# --- PostgreSQL (connect/postgres: logical replication for postgres-cdc) ---
postgres_cdc() {
	local psql=(psql -h 127.0.0.1 -U postgres -d postgres -XAtq)
	if ! "${psql[@]}" -c 'select 1' >/dev/null 2>&1; then
		echo "services: PostgreSQL not reachable on 127.0.0.1:5432, starting it"
		pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
	fi
	local restart=0
	if [[ "$("${psql[@]}" -c 'show wal_level')" != logical ]]; then
		"${psql[@]}" -c "alter system set wal_level = logical"
		restart=1
	fi
	if (("$("${psql[@]}" -c 'show max_replication_slots')" < 20)); then
		"${psql[@]}" -c "alter system set max_replication_slots = 20"
		restart=1
	fi
	if (("$("${psql[@]}" -c 'show max_wal_senders')" < 20)); then
		"${psql[@]}" -c "alter system set max_wal_senders = 20"
		restart=1
	fi
	if ((restart)); then
		echo "services: restarting PostgreSQL for wal_level=logical"
		pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main restart
	fi
	echo "services: PostgreSQL wal_level=$("${psql[@]}" -c 'show wal_level')"
}

postgres_cdc
