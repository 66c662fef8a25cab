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

# --- MariaDB (connect/mysql: row-based binlog with GTIDs for mysql-cdc) ---
mariadb_cdc() {
	local sql=(mariadb -h 127.0.0.1 -u root -N -B)
	local conf_dir=/etc/mysql/conf.d conf=/etc/mysql/conf.d/sluice-cdc.cnf
	if ! "${sql[@]}" -e 'select 1' >/dev/null 2>&1; then
		echo "services: MariaDB not reachable on 127.0.0.1:3306, starting it"
		start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
		for _ in $(seq 1 60); do "${sql[@]}" -e 'select 1' >/dev/null 2>&1 && break; sleep 0.5; done
	fi
	local want
	want=$(printf '%s\n' '[mysqld]' 'log_bin = mariadb-bin' 'binlog_format = ROW' 'binlog_row_image = FULL' \
		'server_id = 1' 'binlog_annotate_row_events = ON' 'binlog_row_metadata = FULL' 'expire_logs_days = 2')
	mkdir -p "$conf_dir"
	grep -q '^!includedir /etc/mysql/conf.d' /etc/mysql/my.cnf || printf '\n!includedir /etc/mysql/conf.d/\n' >>/etc/mysql/my.cnf
	[[ -f $conf && "$(cat "$conf")" == "$want" ]] || printf '%s\n' "$want" >"$conf"
	local state
	state=$("${sql[@]}" -e "select concat(@@log_bin, @@binlog_format, @@binlog_row_image)")
	if [[ $state != ONROWFULL ]]; then
		echo "services: restarting MariaDB for a row-based binlog (was $state)"
		mariadb-admin -h 127.0.0.1 -u root shutdown
		for _ in $(seq 1 60); do pgrep -x mariadbd >/dev/null || break; sleep 0.5; done
		start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
		for _ in $(seq 1 60); do "${sql[@]}" -e 'select 1' >/dev/null 2>&1 && break; sleep 0.5; done
	fi
	# Dynamic: set it on the running server too instead of restarting.
	if [[ "$("${sql[@]}" -e 'select @@binlog_row_metadata')" != FULL ]]; then
		"${sql[@]}" -e "SET GLOBAL binlog_row_metadata = FULL"
	fi
	echo "services: MariaDB log_bin=$("${sql[@]}" -e 'select @@log_bin') binlog_format=$("${sql[@]}" -e 'select @@binlog_format') binlog_row_metadata=$("${sql[@]}" -e 'select @@binlog_row_metadata')"
}

postgres_cdc
mariadb_cdc
