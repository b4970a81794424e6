# Sourced by the scripts that need a throwaway PostgreSQL (test.sh, audit.sh, bench.sh, cluster.sh).
# pg_start: initdb in a new temporary directory of its own (owned by the postgres user when run as root:
# initdb and the server refuse root, and cannot reach into a root-only directory), start it on a free loopback
# port, and set PG_PORT, PG_PID, PG_DATA, PG_SERVER (a connection string without a database) and PG_LOG.
# pg_stop: stop that server, by its pid, and remove its directory.
# pg_start --fast turns durability off (fsync, synchronous commit) for test databases that are thrown away
# anyway; never where a test kills the server and counts acknowledged writes (the cluster). Nothing listens beyond 127.0.0.1; trust
# authentication is for this loopback-only throwaway instance.

pg_bin() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/postgres" ] && { echo "$dir"; return 0; }
  done
  command -v postgres >/dev/null 2>&1 && dirname "$(command -v postgres)" && return 0
  return 1
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' 2>/dev/null \
    || echo $((20000 + RANDOM % 20000))
}

pg_as() { # run a PostgreSQL program as the postgres user when we are root
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_start() {
  local base bin durability=""
  [ "${1:-}" = --fast ] && durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  bin=$(pg_bin) || { echo "postgres: no PostgreSQL server found (apt-get install postgresql)" >&2; return 1; }
  base=$(mktemp -d "${TMPDIR:-/tmp}/rampart-pg.XXXXXX")
  PG_BASE=$base
  PG_DATA="$base/pg"
  PG_LOG="$base/postgres.log"
  mkdir -p "$PG_DATA"
  chmod 700 "$PG_DATA"
  if [ "$(id -u)" -eq 0 ]; then chown -R postgres:postgres "$base"; fi
  pg_as "$bin/initdb" -D "$PG_DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$base/initdb.log" 2>&1 \
    || { cat "$base/initdb.log" >&2; return 1; }
  PG_PORT=$(free_port)
  pg_as "$bin/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DATA -c max_connections=300 $durability" start >/dev/null \
    || { cat "$PG_LOG" >&2; return 1; }
  PG_PID=$(head -1 "$PG_DATA/postmaster.pid")
  PG_SERVER="Host=127.0.0.1;Port=$PG_PORT;Username=postgres"
  export PG_PORT PG_PID PG_DATA PG_SERVER PG_LOG
}

pg_stop() {
  [ -n "${PG_PID:-}" ] || return 0
  kill -INT "$PG_PID" 2>/dev/null
  for _ in $(seq 1 50); do [ -r "/proc/$PG_PID/stat" ] && ! grep -qE '^[0-9]+ \(.*\) Z ' "/proc/$PG_PID/stat" || break; sleep 0.2; done
  PG_PID=
  [ -n "${PG_BASE:-}" ] && rm -rf "$PG_BASE"
  PG_BASE=
}
