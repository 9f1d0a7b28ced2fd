# Sourced by scripts/run and scripts/test: makes sure a MongoDB-compatible database is reachable
# and exports MONGODB_URI for it. In order of preference:
#   1. MONGODB_URI, when it is set (scripts/run also reads it from .env);
#   2. a server already listening on 127.0.0.1:27017;
#   3. `docker compose up -d mongo`, when a Docker engine answers;
#   4. FerretDB v1.24.2 (a MongoDB wire-protocol server) on SQLite, built once with Go into
#      .tools/ and started here on a free port; it is stopped again when the calling script exits.

FERRETDB_VERSION=v1.24.2
TOOLS_DIR="${VIDEOTUBE_TOOLS_DIR:-$PWD/.tools}"

say() { printf '[videotube] %s\n' "$*" >&2; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for_port() {
  local port=$1 tries=$2
  while ! port_open "$port"; do
    tries=$((tries - 1))
    [ "$tries" -gt 0 ] || return 1
    sleep 0.5
  done
}

# `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2` produces a binary that panics at
# start-up ("Invalid build/version/version.txt"): the published module lacks that file, which
# FerretDB's release tooling generates. So fetch the very same module through the Go module proxy
# and build it with the file written in.
#
# One change to its source, too: its SQLite backend looks documents up by `_id` with the
# expression `_ferretdb_sjson->'$._id'` while the `_id` index it creates is on
# `_ferretdb_sjson->"_id"`. SQLite cannot tell the two are the same, so every lookup by `_id` read
# the whole table (EXPLAIN QUERY PLAN: SCAN). Written `->'_id'` (the same path, in SQLite's
# words), lookups use the index (SEARCH ... USING INDEX). Nothing else changes.
FERRETDB_BUILD="$FERRETDB_VERSION+sqlite-id-index"
install_ferretdb() {
  local bin="$TOOLS_DIR/bin/ferretdb"
  # (Not `| grep -q`: under pipefail its early exit fails the pipeline.)
  if [ -x "$bin" ] && [[ "$("$bin" --version 2>&1)" == *"version: $FERRETDB_VERSION"* ]] &&
    [ "$(cat "$bin.build" 2>/dev/null)" = "$FERRETDB_BUILD" ]; then
    return 0
  fi
  if ! command -v go >/dev/null 2>&1; then
    say "FerretDB is needed but Go is not installed. Install Go (https://go.dev/dl/), or start"
    say "MongoDB yourself (docker compose up -d mongo) or point MONGODB_URI at one, then run again."
    return 1
  fi
  say "building FerretDB $FERRETDB_VERSION into $TOOLS_DIR/bin (once; about a minute)"
  local module src="$TOOLS_DIR/src/ferretdb-$FERRETDB_VERSION"
  module=$(GOFLAGS= go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p') || return 1
  [ -n "$module" ] || { say "go mod download did not report the FerretDB module directory"; return 1; }
  rm -rf "$src" && mkdir -p "$TOOLS_DIR/src" "$TOOLS_DIR/bin" && cp -R "$module" "$src" && chmod -R u+w "$src" || return 1
  echo "$FERRETDB_VERSION" > "$src/build/version/version.txt"
  local ids="$src/internal/backends/sqlite/metadata/metadata.go"
  sed -i "s|IDColumn = DefaultColumn + \"->'\\\$._id'\"|IDColumn = DefaultColumn + \"->'_id'\"|" "$ids"
  grep -q "IDColumn = DefaultColumn + \"->'_id'\"" "$ids" || { say "could not patch $ids"; return 1; }
  (cd "$src" && GOFLAGS= go build -o "$bin" ./cmd/ferretdb) || return 1
  echo "$FERRETDB_BUILD" > "$bin.build"
}

free_port() {
  local port=$1
  while port_open "$port"; do port=$((port + 1)); done
  echo "$port"
}

# start_ferretdb DATA_NAME: starts FerretDB on SQLite files under .tools/ferretdb-data/DATA_NAME.
start_ferretdb() {
  local data="$TOOLS_DIR/ferretdb-data/$1" port log
  install_ferretdb || return 1
  port=$(free_port 27117)
  mkdir -p "$data"
  log="$TOOLS_DIR/ferretdb-$1.log"
  say "starting FerretDB $FERRETDB_VERSION on 127.0.0.1:$port (SQLite data in $data, log in $log)"
  "$TOOLS_DIR/bin/ferretdb" --handler=sqlite --sqlite-url="file:$data/" \
    --listen-addr="127.0.0.1:$port" --debug-addr=- --state-dir="$data" \
    --telemetry=disable --log-level=warn >"$log" 2>&1 &
  FERRETDB_PID=$!
  trap stop_ferretdb EXIT
  if ! wait_for_port "$port" 60; then
    say "FerretDB did not start; its log follows"
    cat "$log" >&2
    return 1
  fi
  export MONGODB_URI="mongodb://127.0.0.1:$port"
}

stop_ferretdb() {
  if [ -n "${FERRETDB_PID:-}" ]; then
    kill "$FERRETDB_PID" 2>/dev/null && wait "$FERRETDB_PID" 2>/dev/null
    FERRETDB_PID=
  fi
}

docker_works() {
  command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1 && docker compose version >/dev/null 2>&1
}

# provide_database DATA_NAME [fresh]: "fresh" wipes FerretDB's data first (tests want no leftovers).
provide_database() {
  if [ -n "${MONGODB_URI:-}" ]; then
    say "using the database at MONGODB_URI"
    return 0
  fi
  if port_open 27017; then
    say "using the database already listening on 127.0.0.1:27017"
    export MONGODB_URI="mongodb://127.0.0.1:27017"
    return 0
  fi
  if docker_works; then
    say "starting MongoDB with docker compose (docker compose down stops it)"
    docker compose up -d mongo && wait_for_port 27017 120 || return 1
    export MONGODB_URI="mongodb://127.0.0.1:27017"
    return 0
  fi
  say "no MONGODB_URI, nothing on 127.0.0.1:27017 and no working Docker engine: using FerretDB"
  [ "${2:-}" = fresh ] && rm -rf "$TOOLS_DIR/ferretdb-data/$1"
  if ! start_ferretdb "$1"; then
    say "could not provide a database. Set MONGODB_URI to a MongoDB server, start one on"
    say "127.0.0.1:27017, or install Go so that FerretDB can be built, and run again."
    return 1
  fi
}

# The server reads .env itself; the run script needs its MONGODB_URI earlier, to know whether to
# start a database at all.
read_database_uri_from_dotenv() {
  if [ -z "${MONGODB_URI:-}" ] && [ -f .env ]; then
    local uri
    uri=$(sed -n 's/^[[:space:]]*MONGODB_URI[[:space:]]*=[[:space:]]*//p' .env | tail -n 1 | tr -d "\"'")
    if [ -n "$uri" ]; then export MONGODB_URI="$uri"; fi
  fi
}
