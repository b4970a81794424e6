#!/usr/bin/env bash
# Proves that apps nobody here wrote adopt Rampart.Hardening in two lines and keep working (docs/adopting.md).
# Packs the package into a local folder feed; generates the SDK's own templates (webapp, mvc and blazor with
# --auth Individual) and a minimal API with MapIdentityApi and a per-user rate limit (tests/Adopters/MinimalApi);
# adds the package and the two lines, nothing else; publishes and runs each in Production over HTTPS; walks it in
# headless Chromium (register, confirm, sign in, Manage, sign out, the Blazor counter) with no CSP violation or
# console error; and checks from outside with curl and the MDN HTTP Observatory.
# Prints one "  pass|FAIL|skip  what" line per check; test.sh counts them. Usage: scripts/adopters.sh [Configuration] [deps-ok]
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CONFIG=${1:-Release}
DEPS_OK=${2:-true}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rampart-adopters.XXXXXX")
REPORT=${ADOPTERS_REPORT:-$WORK/report.txt}
PORT_BASE=${ADOPTERS_PORT_BASE:-16100}
APP_PID=""

pass() { echo "  pass  $1"; }
fail() { echo "  FAIL  $1"; }
skip() { if [ "${CI:-}" = "true" ]; then fail "$1 (dependency missing under CI: $2)"; else echo "  skip  $1 ($2)"; fi; }
stop_app() { if [ -n "$APP_PID" ]; then kill "$APP_PID" 2>/dev/null; wait "$APP_PID" 2>/dev/null; APP_PID=""; fi; }
cleanup() { stop_app; [ -z "${ADOPTERS_KEEP:-}" ] && rm -rf "$WORK"; return 0; }
trap cleanup EXIT
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# The packages, as a feed would serve them.
# A prerelease suffix of its own per run, so no package NuGet cached from an earlier run stands in for this build.
SUFFIX="adopters.$(date +%Y%m%d%H%M%S)"
VERSION="$(dotnet msbuild src/Rampart.Hardening/Rampart.Hardening.csproj -getProperty:VersionPrefix 2>/dev/null)-$SUFFIX"
for package in Rampart.Hardening Rampart.Hardening.Identity Rampart.Hardening.Redis Rampart.Hardening.Markdown; do
  if ! dotnet pack "src/$package/$package.csproj" -c "$CONFIG" -o "$WORK/feed" --version-suffix "$SUFFIX" -nologo >"$WORK/pack-$package.log" 2>&1; then
    fail "dotnet pack $package"; tail -20 "$WORK/pack-$package.log"; exit 0
  fi
done
CORE="$WORK/feed/Rampart.Hardening.$VERSION.nupkg"
core_deps=$(unzip -p "$CORE" '*.nuspec' | grep -o '<dependency id="[^"]*"' | cut -d'"' -f2 | sort -u | tr '\n' ' ')
core_files=$(unzip -l "$CORE" | awk '{print $4}' | grep -cE '^(README.md|LICENSE|lib/net10.0/Rampart.Hardening.(dll|xml))$')
if [ "$core_deps" = "NetEscapades.AspNetCore.SecurityHeaders " ] && [ "$core_files" -eq 4 ]; then
  pass "dotnet pack: Rampart.Hardening $VERSION ($(du -k "$CORE" | cut -f1) KB; depends only on $core_deps; README, LICENSE, XML docs) and its satellites .Identity, .Redis, .Markdown into a local feed"
else
  fail "dotnet pack: Rampart.Hardening depends only on NetEscapades and carries its README, LICENSE and XML docs (dependencies: $core_deps; files: $core_files of 4)"
fi
# The machine's own package sources stay (the templates need theirs); the local feed is added to them.
cat >"$WORK/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="rampart-local" value="$WORK/feed" />
  </packageSources>
</configuration>
XML

# A certificate the adopter configures the framework's way (Kestrel:Certificates:Default), not the layer's.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" \
  -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost >/dev/null 2>&1 \
  && openssl pkcs12 -export -inkey "$WORK/key.pem" -in "$WORK/cert.pem" -out "$WORK/cert.pfx" -passout pass:adopters >/dev/null 2>&1 \
  || { fail "openssl makes the adopters' TLS certificate"; exit 0; }

WALK="$ROOT/tests/Rampart.Adopters.Walk/bin/$CONFIG/net10.0/Rampart.Adopters.Walk.dll"
OBS=tools/observatory/node_modules/@mdn/mdn-http-observatory
echo "adopter | lines changed | walk | CSP violations | console errors | Observatory before -> after" >"$REPORT"

start_app() { # $1 = published folder, $2 = assembly name, $3 = http port, $4 = https port, $5 = log; sets APP_PID, returns 1 if it does not answer
  (cd "$1" && ASPNETCORE_ENVIRONMENT=Production ASPNETCORE_URLS="https://localhost:$4;http://localhost:$3" \
     Kestrel__Certificates__Default__Path="$WORK/cert.pfx" Kestrel__Certificates__Default__Password=adopters \
     exec env ${EXTRA_SETTINGS:-} dotnet "$2.dll") >"$5" 2>&1 &
  APP_PID=$!
  for _ in $(seq 1 120); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$WORK/cert.pem" "https://localhost:$4/" 2>/dev/null)" != "000" ] && return 0
    kill -0 "$APP_PID" 2>/dev/null || return 1
    sleep 0.5
  done
  return 1
}

grade() { # $1 = http port, $2 = https port: the Observatory's last line, or why there is none
  if [ "$DEPS_OK" = true ] && command -v node >/dev/null 2>&1 && [ -d "$OBS" ]; then
    NODE_EXTRA_CA_CERTS="$WORK/cert.pem" timeout 120 node tools/observatory/grade.mjs "$OBS" localhost "$1" "$2" 0 2>&1 | tail -1
  fi
}

publish() { # $1 = project folder, $2 = name, $3 = output folder: published, with the templates' SQLite database beside it
  dotnet publish "$1/$2.csproj" -c Release -o "$3" -nologo >"$3.log" 2>&1 || return 1
  [ -f "$1/app.db" ] && cp "$1/app.db" "$3/"
  [ -f "$1/Data/app.db" ] && mkdir -p "$3/Data" && cp "$1/Data/app.db" "$3/Data/"
  return 0
}

adopt() { # $1 = name, $2 = kind (webapp|mvc|blazor|minimal), $3 = http port, $4 = https port
  local name=$1 kind=$2 http=$3 https=$4 dir="$WORK/$1" out="$WORK/$1-out" log="$WORK/$1.log"
  case "$kind" in
    webapp|mvc) dotnet new "$kind" --auth Individual -o "$dir" -n "$name" >"$WORK/$name-new.log" 2>&1 ;;
    blazor) dotnet new blazor --auth Individual --interactivity Server -o "$dir" -n "$name" >"$WORK/$name-new.log" 2>&1 ;;
    minimal) mkdir -p "$dir" && cp tests/Adopters/MinimalApi/Program.cs "$dir/" && cp tests/Adopters/MinimalApi/MinimalApi.csproj "$dir/$name.csproj" ;;
  esac
  [ -f "$dir/Program.cs" ] || { fail "$name: generated"; tail -5 "$WORK/$name-new.log"; return; }
  printf 'bin/\nobj/\nout/\nbefore/\n*.log\n' >"$dir/.gitignore"
  git -C "$dir" init -q && git -C "$dir" add -A && git -C "$dir" -c user.name=adopter -c user.email=adopter@example.org commit -qm "as generated"

  # The grade before: the app as generated, run the same way.
  local before="not measured"
  if publish "$dir" "$name" "$WORK/$name-before" && start_app "$WORK/$name-before" "$name" "$http" "$https" "$WORK/$name-before-run.log"; then
    before=$(grade "$http" "$https" | grep -oE 'grade [A-F][+-]?, score -?[0-9]+' || echo "not measured")
  fi
  stop_app

  # The package and the two lines, nothing else.
  dotnet add "$dir/$name.csproj" package Rampart.Hardening --version "$VERSION" >"$WORK/$name-add.log" 2>&1 \
    || { fail "$name: dotnet add package Rampart.Hardening"; tail -5 "$WORK/$name-add.log"; return; }
  sed -i 's/^var builder = WebApplication\.CreateBuilder(args);\r\?$/&\nbuilder.AddRampartHardening();/; s/^var app = builder\.Build();\r\?$/&\napp.UseRampartHardening();/' "$dir/Program.cs"
  local added
  added=$(git -C "$dir" diff --numstat | awk '{ a += $1; d += $2 } END { printf "+%d -%d", a, d }')
  if [ "$(grep -c 'RampartHardening()' "$dir/Program.cs")" -eq 2 ]; then pass "$name: adopted with the package and two lines ($added lines over $(git -C "$dir" diff --name-only | tr '\n' ' '))"; else fail "$name: the two lines went in"; return; fi

  if ! publish "$dir" "$name" "$out"; then
    fail "$name: builds with the package"; grep -E 'error' "$out.log" | sort -u | head -10; return
  fi
  local base="https://localhost:$https"
  if ! start_app "$out" "$name" "$http" "$https" "$log"; then fail "$name: starts in Production over HTTPS"; tail -20 "$log" | sed 's/^/    /'; stop_app; return; fi
  pass "$name: starts in Production over HTTPS"

  local page=/ login=/Identity/Account/Login
  [ "$kind" = blazor ] && login=/Account/Login
  [ "$kind" = minimal ] && { page=/me; login=/login; }
  local headers
  headers=$(curl -s -D - -o "$WORK/$name-page.html" --cacert "$WORK/cert.pem" "$base$login" | tr -d '\r')
  if grep -qiE "^content-security-policy: .*default-src 'none'" <<<"$headers" && grep -qiE "^content-security-policy: .*script-src 'self'[^;]* 'nonce-" <<<"$headers" \
     && grep -qiE '^strict-transport-security: max-age=[0-9]{8}' <<<"$headers" \
     && grep -qiE '^x-content-type-options: nosniff' <<<"$headers" && grep -qiE '^x-frame-options: deny' <<<"$headers"; then
    pass "$name: the layer's headers on $login (CSP with a nonce, HSTS, nosniff, DENY)"
  else
    fail "$name: the layer's headers on $login"; sed 's/^/    /' <<<"$headers" | head -20
  fi
  local bad_cookies
  bad_cookies=$(grep -i '^set-cookie:' <<<"$headers" | grep -viE '^set-cookie: __Host-[^;]*;.*; secure.*; httponly' || true)
  if [ -z "$bad_cookies" ]; then pass "$name: every cookie is __Host-, Secure and HttpOnly ($(grep -ci '^set-cookie:' <<<"$headers") on $login)"; else fail "$name: cookies: $bad_cookies"; fi

  redirect=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "http://localhost:$http/x?y=1")
  case "$redirect" in 30[78]" https://localhost:$https/x?y=1") pass "$name: plain HTTP redirects to HTTPS ($redirect)" ;; *) fail "$name: plain HTTP redirects to HTTPS ($redirect)" ;; esac

  # A cross-site post, with no cookie at all (login CSRF): refused by the browser's word on where it came from.
  csrf=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$WORK/cert.pem" -X POST "$base$login" -H 'Origin: https://evil.example' \
    -H 'Sec-Fetch-Site: cross-site' -H 'Content-Type: application/x-www-form-urlencoded' --data 'Input.Email=a%40b.c&Input.Password=x')
  [ "$csrf" = 403 ] && pass "$name: a cross-site post to $login is refused (403)" || fail "$name: a cross-site post to $login is refused (got $csrf)"

  # Nothing of Rampart's in pages or headers (a page, a 404, the sign-in page).
  leak=""
  for path in / /no-such-page-here "$login"; do
    curl -s -D - --cacert "$WORK/cert.pem" "$base$path" | grep -qi rampart && leak+=" $path"
  done
  [ -z "$leak" ] && pass "$name: no 'Rampart' in any page or header" || fail "$name: 'Rampart' shows on$leak"

  local walk_result="n/a" csp_count="n/a" console_count="n/a"
  if [ "$kind" = minimal ]; then
    api_checks "$name" "$base"
  elif [ "$DEPS_OK" = true ] && [ -x /usr/bin/chromium ] && [ -f "$WALK" ]; then
    if dotnet "$WALK" "$( [ "$kind" = blazor ] && echo blazor || echo identity-ui)" "$base" "$WORK/$name-shots" >"$WORK/$name-walk.log" 2>&1; then
      pass "$name: walked in Chromium: $(grep '^walk summary' "$WORK/$name-walk.log")"
    else
      fail "$name: walked in Chromium"; sed 's/^/    /' "$WORK/$name-walk.log" | tail -25
    fi
    walk_result=$(grep -q 'all steps passed' "$WORK/$name-walk.log" && echo "all steps passed" || echo "steps failed")
    csp_count=$(grep -o '[0-9]* CSP violations' "$WORK/$name-walk.log" | cut -d' ' -f1)
    console_count=$(grep -o '[0-9]* console errors' "$WORK/$name-walk.log" | cut -d' ' -f1)
  else
    skip "$name: walked in Chromium" "chromium or the walk program missing"
  fi

  local grade="n/a"
  if [ "$DEPS_OK" = true ] && command -v node >/dev/null 2>&1 && [ -d "$OBS" ]; then
    if obs=$(NODE_EXTRA_CA_CERTS="$WORK/cert.pem" timeout 120 node tools/observatory/grade.mjs "$OBS" localhost "$http" "$https" 100 2>&1); then
      pass "$name: MDN HTTP Observatory: $(tail -1 <<<"$obs")"
    else
      fail "$name: MDN HTTP Observatory A+ (score >= 100): $(tail -1 <<<"$obs")"; sed 's/^/    /' <<<"$obs" | tail -15
    fi
    grade=$(grep -oE 'grade [A-F][+-]?, score -?[0-9]+' <<<"$obs" || echo "$obs" | tail -1)
  else
    skip "$name: MDN HTTP Observatory" "node or @mdn/mdn-http-observatory not installed (scripts/install-deps.sh)"
  fi

  stop_app
  if grep -E '^warn: ' -A1 "$log" | grep -qi 'access.notfound'; then fail "$name: ordinary 404s are not warnings in the app's log"; else pass "$name: ordinary 404s are not warnings in the app's log"; fi
  if [ -n "$(git -C "$dir" status --porcelain --ignored=no | grep -vE ' (Program\.cs|[^ ]*\.csproj)$')" ] || [ -e "$out/data" ] || [ -e "$out/keys" ] || [ -e "$out/tls" ]; then fail "$name: the layer wrote no data folder into the app"; else pass "$name: the layer wrote no data folder into the app"; fi
  echo "$name | $added (Program.cs: 2 lines; csproj: the package) | $walk_result | $csp_count | $console_count | $before -> $grade" >>"$REPORT"
}

api_checks() { # $1 = name, $2 = base URL: MapIdentityApi's bearer tokens, the sign-in limit and a per-user policy
  local name=$1 base=$2 c="curl -s --cacert $WORK/cert.pem"
  local statuses=""
  for i in 1 2 3 4 5 6 7; do
    statuses+="$($c -o /dev/null -w '%{http_code}' -X POST "$base/login" -H 'Content-Type: application/json' \
      --data "{\"email\":\"nobody@example.org\",\"password\":\"guess-$i\"}") "
  done
  [[ "$statuses" == *429* ]] && pass "$name: MapIdentityApi's /login is limited with no endpoint marked ($statuses)" || fail "$name: /login is limited (got $statuses)"
  local tokens=()
  for who in alice bob; do
    reg=$($c -o /dev/null -w '%{http_code}' -X POST "$base/register" -H 'Content-Type: application/json' \
      --data "{\"email\":\"$who@example.org\",\"password\":\"Adopter-Walk-2026!x\"}")
    token=$($c -X POST "$base/login" -H 'Content-Type: application/json' -H "X-Forwarded-For: 192.0.2.1" \
      --data "{\"email\":\"$who@example.org\",\"password\":\"Adopter-Walk-2026!x\"}" | python3 -c 'import sys,json; print(json.load(sys.stdin).get("accessToken",""))' 2>/dev/null)
    [ "$reg" = 200 ] && [ -n "$token" ] || { fail "$name: a client with no cookie registers and signs in with JSON ($who: register $reg)"; return; }
    tokens+=("$token")
  done
  pass "$name: a client with no cookie and no antiforgery token registers and gets a bearer token"
  alice=""; for _ in 1 2 3 4; do alice+="$($c -o /dev/null -w '%{http_code}' -H "Authorization: Bearer ${tokens[0]}" "$base/me") "; done
  bob=$($c -o /dev/null -w '%{http_code}' -H "Authorization: Bearer ${tokens[1]}" "$base/me")
  if [ "$alice" = "200 200 200 429 " ] && [ "$bob" = 200 ]; then
    pass "$name: the app's per-user policy separates users (alice: $alice; bob: $bob)"
  else
    fail "$name: the app's per-user policy separates users (alice: $alice; bob: $bob)"
  fi
}

adopt webapp webapp $PORT_BASE $((PORT_BASE + 1))
adopt mvcapp mvc $((PORT_BASE + 2)) $((PORT_BASE + 3))
# The Blazor template's nav menu carries one inline handler (onclick on .nav-scrollable): allowed by its hash, as a setting.
EXTRA_SETTINGS="Rampart__Hardening__Headers__AllowedInlineEventHandlers__0=document.querySelector('.navbar-toggler').click()" \
  adopt blazorapp blazor $((PORT_BASE + 4)) $((PORT_BASE + 5))
adopt minimalapi minimal $((PORT_BASE + 6)) $((PORT_BASE + 7))

echo "report:"; sed 's/^/    /' "$REPORT"
