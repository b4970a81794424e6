#!/usr/bin/env bash
# Rampart scaled out on one machine, for tests and for trying it: a throwaway PostgreSQL, a Redis, N Rampart
# instances (each with its own data directory) and nginx in front (TLS, HTTP -> HTTPS, round-robin), every
# process bound to 127.0.0.1 on a free port and started here, so `down` can stop each one by its pid.
#
#   scripts/cluster.sh up [--instances N] [--dir DIR] [--set KEY=VALUE]...
#                                                           start; writes DIR/cluster.env, prints the URL and setup link
#                                                           (--set adds a setting for every instance, e.g.
#                                                           Rampart__Hardening__RateLimits__AuthPerIp=1000)
#   scripts/cluster.sh cli --dir DIR -- <operator command>  run an operator command against the cluster's database
#   scripts/cluster.sh start instance-I|redis|postgres --dir DIR   start one part again (after a fault), same port
#   scripts/cluster.sh down --dir DIR                       stop everything it started
#
# DIR/cluster.env holds RAMPART_URL, RAMPART_HTTP_URL, RAMPART_INSTANCES, RAMPART_INSTANCE_PIDS, PG_PORT,
# PG_DATA, PG_PID, REDIS_PORT, REDIS_PID, NGINX_PID (and the ports of each part). It installs nothing beyond
# scripts/install-deps.sh (postgresql, redis-server, nginx).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
source scripts/lib-postgres.sh
CONFIG=${CONFIGURATION:-Release}
APP="$ROOT/src/Rampart.Web/bin/$CONFIG/net10.0/Rampart.Web.dll"
# nginx connects to the instances from this address; the instances trust forwarded headers from it alone,
# so a client on 127.0.0.1 cannot forge X-Forwarded-For by talking to an instance directly.
PROXY_ADDRESS=127.0.0.2

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
die() {
  echo "cluster: $*" >&2
  # A start that failed half-way stops what it had started.
  if [ "${STARTING:-}" = 1 ] && [ -f "$DIR/cluster.env" ]; then STARTING=0; down >/dev/null 2>&1; fi
  exit 1
}

command=${1:-}; [ -n "$command" ] || usage; shift
DIR="" INSTANCES=2 PART="" CLI_ARGS=() EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) DIR=${2:-}; shift 2 ;;
    --instances) INSTANCES=${2:-}; shift 2 ;;
    --set) [[ ${2:-} == *=* ]] || usage; EXTRA+=("$2"); shift 2 ;;
    --) shift; CLI_ARGS=("$@"); break ;;
    instance-*|redis|postgres) PART=$1; shift ;;
    *) usage ;;
  esac
done

env_file() { echo "$DIR/cluster.env"; }
# Alive: the process exists and is not a zombie (a killed child nobody has reaped still answers kill -0).
alive() { [ -n "${1:-}" ] && [ -r "/proc/$1/stat" ] && ! grep -qE '^[0-9]+ \(.*\) Z ' "/proc/$1/stat"; }
load_env() { [ -f "$(env_file)" ] || die "no cluster in ${DIR:-?} (run: scripts/cluster.sh up --dir DIR)"; set -a; source "$(env_file)"; set +a; }
set_env() { # KEY VALUE: replace or add one line of cluster.env
  local file; file=$(env_file)
  touch "$file"
  grep -v "^$1=" "$file" >"$file.new" || true
  printf '%s="%s"\n' "$1" "$(printf '%s' "$2" | sed 's/[\\"$`]/\\&/g')" >>"$file.new"
  mv "$file.new" "$file"
}
wait_for() { # URL seconds: until it answers 200 over the instance's own certificate
  local url=$1 seconds=$2
  for _ in $(seq 1 $((seconds * 5))); do
    curl -skf -o /dev/null "$url" && return 0
    sleep 0.2
  done
  return 1
}

instance_env() { # name: writes DIR/NAME.env, the settings of one instance (the names deploy/rampart.env.template uses)
  local name=$1 file="$DIR/$1.env"
  {
    printf '%s=%q\n' ASPNETCORE_ENVIRONMENT Production
    printf '%s=%q\n' Rampart__DataDirectory "$DIR/$name"
    printf '%s=%q\n' Rampart__PublicOrigin "https://localhost:$NGINX_HTTPS_PORT"
    printf '%s=%q\n' Rampart__Database__Provider Postgres
    printf '%s=%q\n' ConnectionStrings__Rampart "Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=rampart"
    printf '%s=%q\n' ConnectionStrings__Redis "127.0.0.1:$REDIS_PORT"
    printf '%s=%q\n' Rampart__Hardening__RateLimits__Instances "$INSTANCE_COUNT"
    printf '%s=%q\n' Rampart__Hardening__ForwardedHeaders__KnownProxies__0 "$PROXY_ADDRESS"
    # The instances serve a certificate of the cluster's private CA, which nginx verifies (name: localhost).
    printf '%s=%q\n' Rampart__Hardening__Https__CertificatePath "$DIR/internal-tls/instance.pfx"
    printf '%s=%q\n' Rampart__Hardening__Https__CertificatePassword "$(cat "$DIR/internal-tls/password")"

    if [ -f "$DIR/extra.env" ]; then cat "$DIR/extra.env"; fi
  } >"$file"
  echo "$file"
}

start_instance() { # index
  local i=$1 port pid
  port=$(eval echo "\${INSTANCE_${i}_PORT}")
  mkdir -p "$DIR/instance-$i"
  local settings; settings=$(instance_env "instance-$i")
  (
    set -a; source "$settings"; set +a
    cd "$ROOT/src/Rampart.Web"
    exec dotnet "$APP" --urls "https://127.0.0.1:$port" --contentRoot "$ROOT/src/Rampart.Web" >>"$DIR/instance-$i.log" 2>&1
  ) &
  pid=$!
  set_env "INSTANCE_${i}_PID" "$pid"
  eval "INSTANCE_${i}_PID=$pid"
}

start_redis() {
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --protected-mode yes >>"$DIR/redis.log" 2>&1 &
  REDIS_PID=$!
  set_env REDIS_PID "$REDIS_PID"
  for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$REDIS_PORT") 2>/dev/null && return 0; sleep 0.1; done
  die "redis-server did not start (see $DIR/redis.log)"
}

start_postgres_again() {
  local bin; bin=$(pg_bin) || die "no PostgreSQL"
  pg_as "$bin/pg_ctl" -D "$PG_DATA" -l "$PG_DATA/../postgres.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DATA -c max_connections=300" start >/dev/null || die "PostgreSQL did not start again"
  PG_PID=$(head -1 "$PG_DATA/postmaster.pid")
  set_env PG_PID "$PG_PID"
}

refresh_instance_list() {
  local urls="" pids="" i
  for i in $(seq 1 "$INSTANCE_COUNT"); do
    urls="$urls https://localhost:$(eval echo "\${INSTANCE_${i}_PORT}")"
    pids="$pids $(eval echo "\${INSTANCE_${i}_PID}")"
  done
  set_env RAMPART_INSTANCES "${urls# }"
  set_env RAMPART_INSTANCE_PIDS "${pids# }"
}

up() {
  [ "$INSTANCES" -ge 1 ] 2>/dev/null || die "--instances must be a number of at least 1"
  for tool in redis-server nginx openssl curl; do command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (scripts/install-deps.sh installs it)"; done
  pg_bin >/dev/null || die "PostgreSQL is missing (scripts/install-deps.sh installs it)"
  [ -f "$APP" ] || dotnet build "$ROOT/src/Rampart.Web" -c "$CONFIG" -nologo -v q >/dev/null || die "could not build the app"
  DIR=${DIR:-$(mktemp -d "${TMPDIR:-/tmp}/rampart-cluster.XXXXXX")}
  mkdir -p "$DIR"; chmod 755 "$DIR"
  DIR=$(cd "$DIR" && pwd)
  rm -f "$(env_file)"
  STARTING=1
  INSTANCE_COUNT=$INSTANCES
  : >"$DIR/extra.env"
  local setting
  for setting in "${EXTRA[@]}"; do printf '%s=%q\n' "${setting%%=*}" "${setting#*=}" >>"$DIR/extra.env"; done
  set_env INSTANCE_COUNT "$INSTANCE_COUNT"

  # PostgreSQL, throwaway, with the database the instances share.
  pg_start || die "PostgreSQL did not start"
  "$(pg_bin)/psql" "host=127.0.0.1 port=$PG_PORT user=postgres dbname=postgres" -qc "CREATE DATABASE rampart" >/dev/null || die "could not create the database"
  set_env PG_PORT "$PG_PORT"; set_env PG_DATA "$PG_DATA"; set_env PG_PID "$PG_PID"; set_env PG_BASE "$PG_BASE"

  REDIS_PORT=$(free_port); set_env REDIS_PORT "$REDIS_PORT"
  start_redis

  NGINX_HTTPS_PORT=$(free_port); NGINX_HTTP_PORT=$(free_port)
  set_env NGINX_HTTPS_PORT "$NGINX_HTTPS_PORT"; set_env NGINX_HTTP_PORT "$NGINX_HTTP_PORT"

  # A private CA for the hop from nginx to the instances, and one certificate it signs for the instances'
  # internal name: nginx verifies it (proxy_ssl_verify on), so a process that took an instance's port answers nothing.
  local t="$DIR/internal-tls"
  mkdir -p "$t"; chmod 700 "$t"
  openssl rand -hex 16 >"$t/password"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "/CN=Rampart cluster internal CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$t/ca.key" -out "$t/ca.crt" >/dev/null 2>&1 || die "openssl could not make the internal CA"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" -keyout "$t/instance.key" -out "$t/instance.csr" >/dev/null 2>&1 \
    || die "openssl could not make the instances' key"
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' >"$t/instance.ext"
  openssl x509 -req -in "$t/instance.csr" -CA "$t/ca.crt" -CAkey "$t/ca.key" -CAcreateserial -days 30 -extfile "$t/instance.ext" \
    -out "$t/instance.crt" >/dev/null 2>&1 || die "openssl could not sign the instances' certificate"
  openssl pkcs12 -export -inkey "$t/instance.key" -in "$t/instance.crt" -out "$t/instance.pfx" -passout "pass:$(cat "$t/password")" >/dev/null 2>&1 \
    || die "openssl could not write the instances' PFX"
  chmod 600 "$t"/*.key "$t/instance.pfx" "$t/password"
  chmod 644 "$t/ca.crt"

  # The instances start together: migrations and the first key happen once, under the database's lock.
  local i upstreams=""
  for i in $(seq 1 "$INSTANCE_COUNT"); do
    eval "INSTANCE_${i}_PORT=$(free_port)"
    set_env "INSTANCE_${i}_PORT" "$(eval echo "\${INSTANCE_${i}_PORT}")"
    upstreams="$upstreams    server 127.0.0.1:$(eval echo "\${INSTANCE_${i}_PORT}") max_fails=1 fail_timeout=5s;\n"
  done
  for i in $(seq 1 "$INSTANCE_COUNT"); do start_instance "$i"; done
  for i in $(seq 1 "$INSTANCE_COUNT"); do
    wait_for "https://localhost:$(eval echo "\${INSTANCE_${i}_PORT}")/readyz" 90 || { tail -20 "$DIR/instance-$i.log" >&2; die "instance $i did not become ready"; }
  done
  refresh_instance_list

  # nginx with a self-signed certificate for localhost, the site from deploy/.
  local n="$DIR/nginx"
  mkdir -p "$n/tmp"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$n/tls.key" -out "$n/tls.crt" >/dev/null 2>&1 || die "openssl could not make a certificate"
  chmod 600 "$n/tls.key"
  sed -e "s#@UPSTREAMS@#${upstreams%\\n}#" -e "s#@LISTEN_ADDRESS@#127.0.0.1#g" -e "s#@HTTP_PORT@#$NGINX_HTTP_PORT#g" \
      -e "s#@HTTPS_PORT@#$NGINX_HTTPS_PORT#g" -e "s#@PUBLIC_HOST@#localhost#g" -e "s#@CERTIFICATE@#$n/tls.crt#g" \
      -e "s#@CERTIFICATE_KEY@#$n/tls.key#g" -e "s#@PROXY_ADDRESS@#$PROXY_ADDRESS#g" \
      -e "s#@INTERNAL_CA@#$t/ca.crt#g" -e "s#@INTERNAL_NAME@#localhost#g" \
      deploy/nginx/rampart.conf.template >"$n/rampart.conf"
  local user_line=""
  if [ "$(id -u)" -eq 0 ]; then user_line="user www-data www-data;"; chown -R www-data:www-data "$n/tmp"; fi
  sed -e "s#@DIR@#$n#g" -e "s#@USER@#$user_line#" deploy/nginx/nginx.conf.template >"$n/nginx.conf"
  nginx -t -p "$n" -c "$n/nginx.conf" -e "$n/error.log" >"$n/check.log" 2>&1 || { cat "$n/check.log" >&2; die "nginx refused its configuration"; }
  nginx -p "$n" -c "$n/nginx.conf" -e "$n/error.log" -g 'daemon off;' >>"$n/stdout.log" 2>&1 &
  NGINX_PID=$!
  set_env NGINX_PID "$NGINX_PID"
  set_env NGINX_CERTIFICATE "$n/tls.crt"
  wait_for "https://localhost:$NGINX_HTTPS_PORT/healthz" 30 || { cat "$n/error.log" >&2; die "nginx did not answer"; }

  set_env RAMPART_URL "https://localhost:$NGINX_HTTPS_PORT"
  set_env RAMPART_HTTP_URL "http://localhost:$NGINX_HTTP_PORT"
  load_env
  STARTING=0
  echo "Rampart is up: $RAMPART_URL ($INSTANCE_COUNT instances behind nginx; settings in $(env_file))"
  local link
  link=$(grep -ho 'https://[^ ]*/setup?token=[^ ]*' "$DIR"/instance-*.log 2>/dev/null | head -1)
  [ -n "$link" ] && echo "Create the first administrator by opening this link once: $link"
  return 0
}

cli() {
  load_env
  [ ${#CLI_ARGS[@]} -gt 0 ] || usage
  local settings; settings=$(instance_env cli)
  (
    set -a; source "$settings"; set +a
    cd "$ROOT/src/Rampart.Web"
    exec dotnet "$APP" "${CLI_ARGS[@]}"
  )
}

start_part() {
  load_env
  case "$PART" in
    instance-*)
      local i=${PART#instance-}
      [ -n "$(eval echo "\${INSTANCE_${i}_PORT:-}")" ] || die "no $PART in this cluster"
      alive "$(eval echo "\${INSTANCE_${i}_PID}")" && { echo "$PART is running"; return 0; }
      start_instance "$i"
      wait_for "https://localhost:$(eval echo "\${INSTANCE_${i}_PORT}")/healthz" 90 || die "$PART did not start"
      load_env; refresh_instance_list ;;
    redis) alive "$REDIS_PID" && { echo "redis is running"; return 0; }; start_redis ;;
    postgres) alive "$PG_PID" && { echo "postgres is running"; return 0; }; start_postgres_again ;;
    *) usage ;;
  esac
  echo "$PART started"
}

down() {
  load_env
  local pid pids
  pids="${RAMPART_INSTANCE_PIDS:-} $(grep -o '^INSTANCE_[0-9]*_PID="[0-9]*"' "$(env_file)" | grep -o '[0-9]*"$' | tr -d '"' | tr '\n' ' ') ${NGINX_PID:-} ${REDIS_PID:-}"
  for pid in $pids; do kill "$pid" 2>/dev/null; done
  for pid in $pids; do
    for _ in $(seq 1 50); do alive "$pid" || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  done
  PG_BASE=${PG_BASE:-}
  pg_stop
  echo "cluster in $DIR stopped"
}

case "$command" in
  up) up ;;
  cli) cli ;;
  start) start_part ;;
  down) [ -n "$DIR" ] || usage; down ;;
  *) usage ;;
esac
