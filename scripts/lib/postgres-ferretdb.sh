# Sourced by the benchmarks (after scripts/lib/db.sh): FerretDB on PostgreSQL, the backend load
# figures come from (FerretDB on SQLite scans whole tables). Installs postgresql with apt when
# missing. start_postgres_ferretdb exports MONGODB_URI and FERRETDB_METRICS (its counters);
# stop_postgres_ferretdb stops both.

pg_started=
start_postgres_ferretdb() {
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { say "installing postgresql with apt"; apt-get install -y postgresql >&2; }
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  pgdata="$TOOLS_DIR/bench-postgres"
  local pg_port port debug_port
  pg_port=$(free_port 25432)
  rm -rf "$pgdata" && mkdir -p "$pgdata" && chown postgres "$pgdata"
  su postgres -s /bin/sh -c "$pg_bin/initdb -D $pgdata -A trust -U postgres" >/dev/null
  su postgres -s /bin/sh -c "$pg_bin/pg_ctl -D $pgdata -l $pgdata/log -w start -o '-p $pg_port -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off'" >/dev/null
  pg_started=1
  su postgres -s /bin/sh -c "$pg_bin/createdb -h 127.0.0.1 -p $pg_port ferretdb"
  install_ferretdb
  port=$(free_port 27217)
  debug_port=$(free_port 28088)
  say "FerretDB on PostgreSQL at 127.0.0.1:$port"
  "$TOOLS_DIR/bin/ferretdb" --handler=postgresql --postgresql-url="postgres://postgres@127.0.0.1:$pg_port/ferretdb" \
    --listen-addr="127.0.0.1:$port" --debug-addr="127.0.0.1:$debug_port" --state-dir="$pgdata" \
    --telemetry=disable --log-level=error > "$pgdata/ferretdb.log" 2>&1 &
  FERRETDB_PID=$!
  wait_for_port "$port" 60
  export MONGODB_URI="mongodb://127.0.0.1:$port"
  export FERRETDB_METRICS="http://127.0.0.1:$debug_port/debug/metrics"
}

stop_postgres_ferretdb() {
  stop_ferretdb
  if [ -n "$pg_started" ]; then
    su postgres -s /bin/sh -c "$pg_bin/pg_ctl -D $pgdata stop -m fast" >/dev/null 2>&1
    pg_started=
  fi
  return 0
}
