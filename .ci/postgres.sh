#!/usr/bin/env bash
# Starts a throwaway PostgreSQL 15 for the @tributary/storage-postgres tests, listening on
# 127.0.0.1 only, and prints the line to eval:
#
#   export TRIBUTARY_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:PORT/tributary_test
#
# Everything else goes to stderr. Idempotent: a server already answering on the port is reused,
# and the test database is created only when missing. Installs Debian's `postgresql` package when
# the binaries are missing (CI starts from a clean machine).
#
# Environment:
#   TRIBUTARY_TEST_POSTGRES_PORT     port (default 54329)
#   TRIBUTARY_TEST_POSTGRES_DATA     data directory (default /tmp/tributary-postgres-PORT)
#   TRIBUTARY_TEST_POSTGRES_VERSION  major version under /usr/lib/postgresql (default 15 when
#                                    installed, else the newest installed)
#
# Stop it with: su postgres -c "pg_ctl -D DATA stop -m fast" (the pid is the first line of
# DATA/postmaster.pid).
set -euo pipefail

port=${TRIBUTARY_TEST_POSTGRES_PORT:-54329}
data=${TRIBUTARY_TEST_POSTGRES_DATA:-/tmp/tributary-postgres-$port}
database=tributary_test

log() { echo "postgres.sh: $*" >&2; }

# PostgreSQL 15 when installed, else the newest major version Debian installed.
pick_version() {
  if [ -n "${TRIBUTARY_TEST_POSTGRES_VERSION:-}" ]; then
    echo "$TRIBUTARY_TEST_POSTGRES_VERSION"
  elif [ -x /usr/lib/postgresql/15/bin/initdb ]; then
    echo 15
  else
    { ls /usr/lib/postgresql 2>/dev/null || true; } | sort -n | tail -n 1
  fi
}

version=$(pick_version)
if [ -z "$version" ] || [ ! -x "/usr/lib/postgresql/$version/bin/initdb" ]; then
  log "installing the postgresql package"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
  # The package starts a cluster of its own on 5432; it is not used, and is left as installed.
  version=$(pick_version)
fi
bin=/usr/lib/postgresql/$version/bin
if [ ! -x "$bin/initdb" ]; then
  log "no PostgreSQL $version binaries in $bin (set TRIBUTARY_TEST_POSTGRES_VERSION to what is installed)"
  exit 1
fi

# initdb and pg_ctl refuse to run as root: run them as the postgres user.
as_postgres() {
  if [ "$(id -u)" = 0 ]; then
    su postgres -s /bin/bash -c "$(printf '%q ' "$@")"
  else
    "$@"
  fi
}

ready() { "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres; }

if ready; then
  log "reusing the server on 127.0.0.1:$port"
else
  if [ ! -f "$data/PG_VERSION" ]; then
    log "initdb in $data"
    mkdir -p "$data"
    chmod 700 "$data"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$data"
    as_postgres "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --no-instructions >&2
  fi
  # A server left by a killed run holds a stale postmaster.pid: pg_ctl sees it is not running.
  log "starting on 127.0.0.1:$port"
  as_postgres "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -p $port -k /tmp -c max_connections=200 -c shared_buffers=256MB" >&2 || {
    log "the server did not start; the end of $data/server.log:"
    tail -n 30 "$data/server.log" >&2 || true
    exit 1
  }
  for _ in $(seq 1 60); do
    ready && break
    sleep 0.5
  done
  ready || { log "the server is not answering on 127.0.0.1:$port"; exit 1; }
fi

exists=$("$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc \
  "SELECT 1 FROM pg_database WHERE datname = '$database'")
if [ "$exists" != 1 ]; then
  "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qc "CREATE DATABASE $database" >&2
fi

url="postgres://postgres@127.0.0.1:$port/$database"
log "ready: $url"
echo "export TRIBUTARY_TEST_POSTGRES_URL=$url"
