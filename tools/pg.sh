#!/usr/bin/env bash
# A throwaway PostgreSQL + PostGIS cluster for the tests (never a real deployment's server).
#
#   eval "$(bash tools/pg.sh start)"   # prints: export MAPAPP_TEST_PG_URL=postgresql://...
#   bash tools/pg.sh stop
#
# Installs postgresql-15-postgis-3 with apt when missing (as root), creates a cluster
# under /tmp on 127.0.0.1:${MAPAPP_PG_PORT:-55432} (trust authentication, loopback only),
# a database with the postgis extension, and prints the URL to export. Messages go to
# stderr so that stdout can be eval'ed.
set -euo pipefail

PORT="${MAPAPP_PG_PORT:-55432}"
DIR="${MAPAPP_PG_DIR:-/tmp/mapapp-pg-$PORT}"
DB="${MAPAPP_PG_DB:-mapapp_test}"
BIN="${MAPAPP_PG_BIN:-/usr/lib/postgresql/15/bin}"
URL="postgresql://postgres@127.0.0.1:$PORT/$DB"

say() { echo "pg.sh: $*" >&2; }

# initdb and postgres refuse to run as root: run them as the 'postgres' user then.
as_owner() {
  if [ "$(id -u)" = "0" ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

install_packages() {
  if [ -x "$BIN/initdb" ] && ls /usr/share/postgresql/15/extension/postgis.control >/dev/null 2>&1; then
    return
  fi
  if [ "$(id -u)" != "0" ]; then
    say "PostgreSQL 15 + PostGIS 3 are missing; install 'postgresql-15-postgis-3' (as root)."
    exit 1
  fi
  say "installing postgresql-15-postgis-3 (apt)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15-postgis-3 >/dev/null
}

start() {
  install_packages
  if as_owner "$BIN/pg_ctl" -D "$DIR" status >/dev/null 2>&1; then
    say "already running on port $PORT ($DIR)"
  else
    rm -rf "$DIR"
    mkdir -p "$DIR"
    [ "$(id -u)" = "0" ] && chown postgres: "$DIR"
    as_owner "$BIN/initdb" -D "$DIR" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
    as_owner "$BIN/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=off -c max_connections=200" \
      start >/dev/null
    say "started on 127.0.0.1:$PORT ($DIR)"
  fi
  if ! as_owner "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = '$DB'" postgres | grep -q 1; then
    as_owner "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DB"
  fi
  as_owner "$BIN/psql" -q -h 127.0.0.1 -p "$PORT" -U postgres -d "$DB" \
    -c "CREATE EXTENSION IF NOT EXISTS postgis" >/dev/null
  echo "export MAPAPP_TEST_PG_URL=$URL"
}

stop() {
  if as_owner "$BIN/pg_ctl" -D "$DIR" status >/dev/null 2>&1; then
    as_owner "$BIN/pg_ctl" -D "$DIR" -m fast -w stop >/dev/null
    say "stopped ($DIR)"
  fi
  rm -rf "$DIR"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  *) say "usage: bash tools/pg.sh start|stop"; exit 2 ;;
esac
