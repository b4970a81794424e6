#!/usr/bin/env bash
# Starts Rampart the way the README runs it (dotnet run, Kestrel, HTTPS with the self-signed
# certificate made on first start, a fresh data directory) and checks it from outside with curl and
# the MDN HTTP Observatory. Prints one "  pass|FAIL|skip  what" line per check; test.sh counts them.
# Usage: scripts/smoke.sh [Configuration] [deps-ok]
set -uo pipefail
cd "$(dirname "$0")/.."
CONFIG=${1:-Release}
DEPS_OK=${2:-true}
HTTP_PORT=${SMOKE_HTTP_PORT:-15080}
HTTPS_PORT=${SMOKE_HTTPS_PORT:-15443}
DATA=$(mktemp -d "${TMPDIR:-/tmp}/rampart-smoke.XXXXXX")
LOG="$DATA/app.log"

pass() { echo "  pass  $1"; }
fail() { echo "  FAIL  $1"; }
skip() { if [ "${CI:-}" = "true" ]; then fail "$1 (dependency missing under CI: $2)"; else echo "  skip  $1 ($2)"; fi; }

dotnet run --project src/Rampart.Web -c "$CONFIG" --no-build -- \
  --urls "http://localhost:$HTTP_PORT;https://localhost:$HTTPS_PORT" \
  --Rampart:DataDirectory="$DATA" >"$LOG" 2>&1 &
APP=$!
cleanup() { kill "$APP" 2>/dev/null; wait "$APP" 2>/dev/null; rm -rf "$DATA"; }
trap cleanup EXIT

CERT="$DATA/tls/selfsigned.crt"
up=false
for _ in $(seq 1 120); do
  if [ -f "$CERT" ] && curl -fsS --cacert "$CERT" "https://localhost:$HTTPS_PORT/healthz" >/dev/null 2>&1; then up=true; break; fi
  kill -0 "$APP" 2>/dev/null || break
  sleep 0.5
done
if ! $up; then
  fail "app starts and answers https://localhost:$HTTPS_PORT/healthz"
  sed 's/^/    /' "$LOG" | tail -30
  exit 0
fi
pass "app starts, makes its self-signed certificate and answers /healthz over verified TLS"

redirect=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "http://localhost:$HTTP_PORT/notes?x=1")
case "$redirect" in
  "307 https://localhost:$HTTPS_PORT/notes?x=1"|"308 https://localhost:$HTTPS_PORT/notes?x=1") pass "plain HTTP redirects to HTTPS ($redirect)" ;;
  *) fail "plain HTTP redirects to HTTPS (got '$redirect')" ;;
esac

headers=$(curl -s -D - -o "$DATA/home.html" --cacert "$CERT" "https://localhost:$HTTPS_PORT/" | tr -d '\r')
check_header() { # $1 = description, $2 = extended regex that must match a header line
  if grep -qiE "$2" <<<"$headers"; then pass "home page header: $1"; else fail "home page header: $1"; fi
}
check_header "status 200" '^HTTP/[0-9.]+ 200'
check_header "CSP default-src 'none' with a nonce, frame-ancestors 'none'" "^content-security-policy: .*script-src 'self' 'nonce-[^']+'.*default-src 'none'.*frame-ancestors 'none'"
check_header "HSTS max-age >= 1 year, includeSubDomains" '^strict-transport-security: max-age=(3153[6-9][0-9]{3}|31[6-9][0-9]{5}|3[2-9][0-9]{6}|[4-9][0-9]{7}|[0-9]{9,}); includeSubDomains'
check_header "X-Content-Type-Options nosniff" '^x-content-type-options: nosniff'
check_header "Referrer-Policy" '^referrer-policy: same-origin'
check_header "Permissions-Policy" '^permissions-policy: .*camera=\(\)'
check_header "COOP same-origin" '^cross-origin-opener-policy: same-origin'
check_header "CORP same-origin" '^cross-origin-resource-policy: same-origin'
check_header "Cache-Control no-store" '^cache-control: no-store'
if grep -qiE '^(server|x-powered-by):' <<<"$headers"; then fail "no Server or X-Powered-By header"; else pass "no Server or X-Powered-By header"; fi
if grep -qiE '<script[^>]*>[^<]|<style|style=' "$DATA/home.html"; then fail "home page has no inline script or style"; else pass "home page has no inline script or style"; fi

ready=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CERT" "https://localhost:$HTTPS_PORT/readyz")
[ "$ready" = "200" ] && pass "/readyz reaches the database" || fail "/readyz reaches the database (got $ready)"

OBS=tools/observatory/node_modules/@mdn/mdn-http-observatory
if [ "$DEPS_OK" = "true" ] && command -v node >/dev/null 2>&1 && [ -d "$OBS" ]; then
  if out=$(NODE_EXTRA_CA_CERTS="$CERT" timeout 120 node tools/observatory/grade.mjs "$OBS" localhost "$HTTP_PORT" "$HTTPS_PORT" 100 2>&1); then
    pass "MDN HTTP Observatory: $(tail -1 <<<"$out")"
  else
    fail "MDN HTTP Observatory score >= 100: $(tail -1 <<<"$out")"
    sed 's/^/    /' <<<"$out"
  fi
else
  skip "MDN HTTP Observatory score >= 100" "node or @mdn/mdn-http-observatory not installed (scripts/install-deps.sh)"
fi

if grep -qiE 'exception|fail' "$LOG"; then
  fail "app log is free of exceptions and failures"
  grep -iE 'exception|fail' "$LOG" | head -5 | sed 's/^/    /'
else
  pass "app log is free of exceptions and failures"
fi
exit 0
