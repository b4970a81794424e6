#!/usr/bin/env bash
# Installs what Rampart's tests need beyond the .NET SDK, by package name from the registries this
# machine reaches: curl, Node.js/npm, Chromium, PostgreSQL, Redis, nginx, openssl, unzip and systemd-analyze from Debian, the MDN HTTP Observatory and axe-core from npm.
# Idempotent: what is already there is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: need root to install ${missing[*]} (apt-get)" >&2
    return 1
  fi
  echo "install-deps: apt-get install ${missing[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

command -v curl >/dev/null 2>&1 || apt_install curl ca-certificates
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  apt_install nodejs npm
fi

# Debian's Chromium for the browser tests (Playwright drives it; it never downloads a browser).
[ -x /usr/bin/chromium ] || apt_install chromium

# Redis and nginx for the cluster scripts/cluster.sh starts (scale-out and fault tests); systemd-analyze
# to check deploy/systemd/rampart.service.
command -v redis-server >/dev/null 2>&1 || apt_install redis-server
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || apt_install nginx
command -v systemd-analyze >/dev/null 2>&1 || apt_install systemd
# openssl (the adopters' certificate) and unzip (reading the packed packages) for scripts/adopters.sh.
command -v openssl >/dev/null 2>&1 || apt_install openssl
command -v unzip >/dev/null 2>&1 || apt_install unzip
# wrk, the external load generator of scripts/bench.sh (not run by the tests).
command -v wrk >/dev/null 2>&1 || apt_install wrk

# PostgreSQL (with contrib: unaccent) for the second run of the web tests, which starts its own throwaway server.
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 && [ -d /usr/share/postgresql ] && ls /usr/share/postgresql/*/extension/unaccent.control >/dev/null 2>&1 \
  || apt_install postgresql postgresql-contrib

if [ ! -f tools/observatory/node_modules/@mdn/mdn-http-observatory/package.json ]; then
  echo "install-deps: npm install @mdn/mdn-http-observatory (scripts skipped)"
  (cd tools/observatory && npm install --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
fi
if [ ! -f tools/axe/node_modules/axe-core/axe.min.js ]; then
  echo "install-deps: npm install axe-core (scripts skipped)"
  (cd tools/axe && npm install --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
fi
# The skipped install script would have fetched the HSTS preload list; Rampart is not on it.
echo '{}' > tools/observatory/node_modules/@mdn/mdn-http-observatory/conf/hsts-preload.json
