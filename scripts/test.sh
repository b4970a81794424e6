#!/usr/bin/env bash
# Rampart's test command (README): on a machine with only the .NET SDK it installs what the tests
# need, builds with the analyzers, writes the CycloneDX SBOM (artifacts/sbom.cdx.json), checks formatting, runs every test project (the web tests twice: on
# SQLite, then on a throwaway PostgreSQL it starts and stops itself), then starts the app
# for real (Kestrel, self-signed HTTPS) and checks it from outside: the redirect, the headers, and
# the MDN HTTP Observatory grade, and has the SDK's own templates adopt the packages (scripts/adopters.sh).
# Ends with one line: "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
LOG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/rampart-test.XXXXXX")
PASSED=0 FAILED=0 SKIPPED=0
CONFIG=${CONFIGURATION:-Release}

pass() { PASSED=$((PASSED + 1)); echo "  pass  $1"; }
fail() { FAILED=$((FAILED + 1)); echo "  FAIL  $1"; }
skip() {
  # Under CI a missing dependency is a failure, never a silent skip.
  if [ "${CI:-}" = "true" ]; then fail "$1 (dependency missing under CI: $2)"; else SKIPPED=$((SKIPPED + 1)); echo "  skip  $1 ($2)"; fi
}
finish() {
  echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
  [ "$FAILED" -eq 0 ]
  exit $?
}

command -v dotnet >/dev/null 2>&1 || { echo "test.sh: the .NET SDK (dotnet) is required" >&2; FAILED=1; finish; }
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# Many test apps at once would exhaust the inotify instances that file watchers take; polling takes none.
export DOTNET_USE_POLLING_FILE_WATCHER=true

echo "== dependencies"
DEPS_OK=true
if ! bash scripts/install-deps.sh; then DEPS_OK=false; echo "test.sh: could not install every dependency" >&2; fi

echo "== build ($CONFIG, analyzers with Security as errors)"
if dotnet build Rampart.slnx -c "$CONFIG" -nologo -clp:NoSummary >"$LOG_DIR/build.log" 2>&1; then
  pass "build with analyzers and warnings as errors"
  grep -oE 'warning (RAMPART0001|NU19[0-9][0-9])[^[]*' "$LOG_DIR/build.log" | sort -u | sed 's/^/  note  /'
else
  grep -E 'error' "$LOG_DIR/build.log" | sort -u | head -40
  fail "build with analyzers and warnings as errors"
  finish
fi

echo "== SBOM (CycloneDX JSON of src/Rampart.Web and its project references)"
# From the packages the build just restored (--disable-package-restore): NuGet's local cache is all it reads. No GitHub
# license lookups: only --enable-github-licenses turns them on, and the token variables it would use are unset here.
ARTIFACTS_DIR=${ARTIFACTS_DIR:-$ROOT/artifacts}
SBOM="$ARTIFACTS_DIR/sbom.cdx.json"
mkdir -p "$ARTIFACTS_DIR" && rm -f "$SBOM"
if dotnet tool restore >"$LOG_DIR/sbom.log" 2>&1 \
   && env -u CYCLONEDX_GITHUB_USERNAME -u CYCLONEDX_GITHUB_TOKEN -u CYCLONEDX_GITHUB_BEARER_TOKEN -u GITHUB_TOKEN \
      dotnet tool run dotnet-CycloneDX src/Rampart.Web/Rampart.Web.csproj --output "$ARTIFACTS_DIR" --filename sbom.cdx.json \
        --output-format Json --recursive --include-project-references --disable-package-restore --set-name Rampart \
        >>"$LOG_DIR/sbom.log" 2>&1 \
   && grep -q '"bomFormat": *"CycloneDX"' "$SBOM" && grep -q '"purl": *"pkg:nuget/' "$SBOM"; then
  pass "CycloneDX SBOM: ${SBOM#"$ROOT"/} ($(grep -c '"purl": *"pkg:nuget/' "$SBOM") NuGet components)"
else
  tail -20 "$LOG_DIR/sbom.log"
  fail "CycloneDX SBOM (dotnet tool run dotnet-CycloneDX)"
fi

if dotnet format Rampart.slnx --verify-no-changes --no-restore >"$LOG_DIR/format.log" 2>&1; then
  pass "dotnet format --verify-no-changes"
else
  head -20 "$LOG_DIR/format.log"
  fail "dotnet format --verify-no-changes"
fi

echo "== test projects"
dotnet test --solution Rampart.slnx -c "$CONFIG" --no-build 2>&1 | tee "$LOG_DIR/test.log" | grep -E '^(failed |/.*\) (passed|failed))|^  (Assert|Expected|Actual|at Rampart)' || true
# Microsoft.Testing.Platform prints a summary per run: total / failed / succeeded / skipped.
read -r t_failed t_passed t_skipped < <(awk '
  /^[[:space:]]*failed: [0-9]+/    { f += $2 }
  /^[[:space:]]*succeeded: [0-9]+/ { p += $2 }
  /^[[:space:]]*skipped: [0-9]+/   { s += $2 }
  END { print f+0, p+0, s+0 }' "$LOG_DIR/test.log")
if [ "$t_passed" -eq 0 ] && [ "$t_failed" -eq 0 ]; then
  echo "test.sh: the test run reported no results" >&2
  tail -20 "$LOG_DIR/test.log"
  t_failed=1
fi
PASSED=$((PASSED + t_passed)); FAILED=$((FAILED + t_failed)); SKIPPED=$((SKIPPED + t_skipped))
echo "  test projects: $t_passed passed, $t_failed failed, $t_skipped skipped"

echo "== the web tests again, on PostgreSQL (a throwaway server on a loopback port)"
source scripts/lib-postgres.sh
cleanup() { pg_stop; [ -f "${CLUSTER_DIR:-/nonexistent}/cluster.env" ] && bash scripts/cluster.sh down --dir "$CLUSTER_DIR" >/dev/null 2>&1; return 0; }
trap cleanup EXIT
if pg_start --fast; then
  RAMPART_TEST_POSTGRES="$PG_SERVER" dotnet test --project tests/Rampart.Web.Tests -c "$CONFIG" --no-build 2>&1 | tee "$LOG_DIR/test-postgres.log" \
    | grep -E '^(failed |/.*\) (passed|failed))|^  (Assert|Expected|Actual|at Rampart)' || true
  pg_stop
  read -r p_failed p_passed p_skipped < <(awk '
    /^[[:space:]]*failed: [0-9]+/    { f += $2 }
    /^[[:space:]]*succeeded: [0-9]+/ { p += $2 }
    /^[[:space:]]*skipped: [0-9]+/   { s += $2 }
    END { print f+0, p+0, s+0 }' "$LOG_DIR/test-postgres.log")
  if [ "$p_passed" -eq 0 ] && [ "$p_failed" -eq 0 ]; then
    tail -20 "$LOG_DIR/test-postgres.log"
    p_failed=1
  fi
  PASSED=$((PASSED + p_passed)); FAILED=$((FAILED + p_failed)); SKIPPED=$((SKIPPED + p_skipped))
  echo "  web tests on PostgreSQL: $p_passed passed, $p_failed failed, $p_skipped skipped"
else
  skip "web tests on PostgreSQL" "no PostgreSQL server could be started (apt-get install postgresql postgresql-contrib)"
fi

echo "== the cluster: scripts/cluster.sh up (PostgreSQL, Redis, 2 instances, nginx); scale-out and fault tests"
CLUSTER_DIR="$LOG_DIR/cluster"
# The per-address sign-in and per-token API limits are raised: every test request comes from 127.0.0.1 with
# few tokens; the per-account limits under test keep their defaults.
if bash scripts/cluster.sh up --instances 2 --dir "$CLUSTER_DIR" \
     --set Rampart__Hardening__RateLimits__AuthPerIp=100000 --set Rampart__Hardening__RateLimits__ApiPerCredential=100000 \
     >"$LOG_DIR/cluster-up.log" 2>&1; then
  pass "scripts/cluster.sh up: 2 instances behind nginx on PostgreSQL and Redis (nginx -t passed on the deploy/ site)"
  RAMPART_CLUSTER="$CLUSTER_DIR/cluster.env" RAMPART_CLUSTER_REPORT="$LOG_DIR/cluster-report.txt" \
    timeout 900 dotnet "tests/Rampart.Cluster.Tests/bin/$CONFIG/net10.0/Rampart.Cluster.Tests.dll" >"$LOG_DIR/cluster-tests.log" 2>&1
  sed 's/\x1b\[[0-9;]*[a-zA-Z]//g' "$LOG_DIR/cluster-tests.log" | grep -E '\[FAIL\]|^\s+(Assert|Expected|Actual)' | head -40
  read -r c_total c_failed c_skipped < <(sed 's/\x1b\[[0-9;]*[a-zA-Z]//g' "$LOG_DIR/cluster-tests.log" \
    | grep -oE 'Total: [0-9]+, Errors: [0-9]+, Failed: [0-9]+, Skipped: [0-9]+' | tail -1 \
    | awk -F'[:,]' '{ print $2+0, $4+$6, $8+0 }')
  c_total=${c_total:-0} c_failed=${c_failed:-1} c_skipped=${c_skipped:-0}
  [ "$c_total" -eq 0 ] && c_failed=1
  c_passed=$((c_total - c_failed - c_skipped)); [ "$c_passed" -lt 0 ] && c_passed=0
  PASSED=$((PASSED + c_passed)); FAILED=$((FAILED + c_failed)); SKIPPED=$((SKIPPED + c_skipped))
  echo "  cluster tests: $c_passed passed, $c_failed failed, $c_skipped skipped"
  [ -f "$LOG_DIR/cluster-report.txt" ] && sed 's/^/  report  /' "$LOG_DIR/cluster-report.txt"
  bash scripts/cluster.sh down --dir "$CLUSTER_DIR" >/dev/null 2>&1
else
  tail -20 "$LOG_DIR/cluster-up.log"
  [ -f "$CLUSTER_DIR/cluster.env" ] && bash scripts/cluster.sh down --dir "$CLUSTER_DIR" >/dev/null 2>&1
  if command -v redis-server >/dev/null 2>&1 && command -v nginx >/dev/null 2>&1; then
    fail "scripts/cluster.sh up"
  else
    skip "scale-out and fault tests" "redis-server or nginx missing (scripts/install-deps.sh installs them as root)"
  fi
fi

echo "== deploy files"
if command -v systemd-analyze >/dev/null 2>&1; then
  unit="$LOG_DIR/rampart.service"
  # Verified as written, with ExecStart pointed at this build (verify checks the program exists).
  sed "s#/opt/rampart/Rampart.Web.dll#$ROOT/src/Rampart.Web/bin/$CONFIG/net10.0/Rampart.Web.dll#; s#^ExecStart=/usr/bin/dotnet#ExecStart=$(command -v dotnet)#" \
    deploy/systemd/rampart.service >"$unit"
  if systemd-analyze verify "$unit" >"$LOG_DIR/systemd-verify.log" 2>&1; then
    pass "systemd-analyze verify deploy/systemd/rampart.service"
  else
    cat "$LOG_DIR/systemd-verify.log"; fail "systemd-analyze verify deploy/systemd/rampart.service"
  fi
else
  skip "systemd-analyze verify deploy/systemd/rampart.service" "systemd-analyze missing (apt-get install systemd)"
fi

# Runs a script that prints "  pass|FAIL|skip  what" lines, shows them, and adds them to the totals.
count_checks() { # $1 = what it is, $2 = its output file, then the command
  local what=$1 out=$2; shift 2
  "$@" > "$out" 2>&1
  cat "$out"
  local c_pass c_fail c_skip
  c_pass=$(grep -c '^  pass ' "$out"); c_fail=$(grep -c '^  FAIL ' "$out"); c_skip=$(grep -c '^  skip ' "$out")
  PASSED=$((PASSED + c_pass)); FAILED=$((FAILED + c_fail)); SKIPPED=$((SKIPPED + c_skip))
  if [ "$c_pass" -eq 0 ] && [ "$c_fail" -eq 0 ] && [ "$c_skip" -eq 0 ]; then fail "$what produced no result"; fi
}

echo "== the app for real: dotnet run, Kestrel, self-signed HTTPS"
count_checks "smoke test" "$LOG_DIR/smoke.out" bash scripts/smoke.sh "$CONFIG" "$DEPS_OK"

echo "== adopters: the packages in the SDK's own templates and a minimal API (scripts/adopters.sh)"
count_checks "adopters.sh" "$LOG_DIR/adopters.out" env ADOPTERS_REPORT="$ARTIFACTS_DIR/adopters.txt" bash scripts/adopters.sh "$CONFIG" "$DEPS_OK"

echo "logs: $LOG_DIR"
finish
