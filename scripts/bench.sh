#!/usr/bin/env bash
# Rampart's speed as ratios to a bare Kestrel endpoint measured in the same run, with an external load
# generator (wrk), so client and server never share a thread pool.
#
#   scripts/bench.sh [--quick] [--provider Sqlite|Postgres] [--no-write] [--keep] [--profile DIR] [--serve]
#
# Starts the bare endpoint (benchmarks/Rampart.Bare: the same JSON bytes over TLS with the same
# certificate) and Rampart in Production on a fresh data directory (SQLite, or a throwaway PostgreSQL),
# its API limit raised so reads are reads; seeds an account, a token and a public note; then runs three
# interleaved rounds of wrk (1 thread, 32 connections) over:
#   P1 GET /api/v1/notes/{id} with a bearer token            (200 expected)
#   P2 GET /p/{slug}, the public page                         (200 expected)
#   P3 POST /account/login refused by the address limit       (429 expected)
# and takes each figure's median. Every answer's status is counted; one unexpected status voids that
# figure. P4 is Markdown rendered and sanitized per second in process (benchmarks/Rampart.Benchmarks
# markdown-throughput, which also runs the XSS corpus through the same renderer); P5 is the server's
# resident memory after the run. Prints one table and writes it to docs/benchmarks.md (unless --no-write).
# --quick: shorter rounds (3 s), for trying the harness; --keep: leave the temporary directory.
# --profile DIR: instead of the rounds, record a CPU-sampling trace of the server under each of P1-P3's load
# (dotnet-trace, a local tool of this repository) into DIR and print each one's top methods.
# --serve: start and seed both servers, print how to load them (the wrk commands) and the server's pid, and
# wait until interrupted — for profiling by hand (dotnet-counters, dotnet-trace).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
source scripts/lib-postgres.sh

QUICK=0 PROVIDER=Sqlite WRITE=1 KEEP=0 PROFILE="" SERVE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1; shift ;;
    --provider) PROVIDER=${2:-}; shift 2 ;;
    --no-write) WRITE=0; shift ;;
    --keep) KEEP=1; shift ;;
    --serve) SERVE=1; shift ;;
    --profile) PROFILE=${2:-}; [ -n "$PROFILE" ] || exit 2; shift 2 ;;
    *) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
done
case "$PROVIDER" in Sqlite|Postgres) ;; *) echo "bench: --provider is Sqlite or Postgres" >&2; exit 2 ;; esac

DURATION=10 WARMUP=5 ROUNDS=3 P4_SECONDS=5
[ "$QUICK" = 1 ] && { DURATION=3; WARMUP=2; P4_SECONDS=2; }
CONNECTIONS=32
PASSWORD="plum-orbit-ladder-quietly-47"

die() { echo "bench: $*" >&2; cleanup; exit 1; }
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 50); do [ -r "/proc/$pid/stat" ] || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  done
  PIDS=()
  pg_stop
  if [ "$KEEP" = 0 ] && [ -n "${DIR:-}" ]; then rm -rf "$DIR"; fi
}
trap 'cleanup; exit 130' INT TERM

command -v wrk >/dev/null 2>&1 || die "wrk is missing (scripts/install-deps.sh installs it: apt-get install wrk)"
command -v curl >/dev/null 2>&1 || die "curl is missing"

echo "== build (Release)"
for project in src/Rampart.Web benchmarks/Rampart.Bare benchmarks/Rampart.Benchmarks; do
  dotnet build "$project" -c Release -nologo -v q -clp:NoSummary >/dev/null || die "could not build $project"
done
APP="$ROOT/src/Rampart.Web/bin/Release/net10.0/Rampart.Web.dll"
BARE="$ROOT/benchmarks/Rampart.Bare/bin/Release/net10.0/Rampart.Bare.dll"
MICRO="$ROOT/benchmarks/Rampart.Benchmarks/bin/Release/net10.0/Rampart.Benchmarks.dll"

DIR=$(mktemp -d "${TMPDIR:-/tmp}/rampart-bench.XXXXXX")
RAMPART_PORT=$(free_port)
BARE_PORT=$(free_port)
RAMPART="https://127.0.0.1:$RAMPART_PORT"
HOST="localhost:$RAMPART_PORT"

# Rampart as an operator would run it, with two changes that keep every path the same: the API limit
# raised (so reads are reads, not 429s) and the sign-in window an hour long (so P3 meets the limit the
# whole run instead of the window re-opening every minute).
export ASPNETCORE_ENVIRONMENT=Production
export Rampart__DataDirectory="$DIR/data"
export Rampart__PublicOrigin="https://$HOST"
export Rampart__Hardening__RateLimits__ApiPerCredential=1000000000 Rampart__Hardening__RateLimits__WritesPerAccount=1000000000
export Rampart__Hardening__RateLimits__ApiPerIp=1000000000
export Rampart__Hardening__RateLimits__AuthWindowSeconds=3600
if [ "$PROVIDER" = Postgres ]; then
  pg_start || die "PostgreSQL did not start"
  export Rampart__Database__Provider=Postgres
  export ConnectionStrings__Rampart="$PG_SERVER;Database=rampart_bench"
fi

echo "== start Rampart ($PROVIDER) on $RAMPART and the bare endpoint"
(cd "$ROOT/src/Rampart.Web" && exec dotnet "$APP" --urls "$RAMPART" --contentRoot "$ROOT/src/Rampart.Web" >"$DIR/rampart.log" 2>&1) &
SERVER_PID=$!
PIDS+=("$SERVER_PID")
ready=0
for _ in $(seq 1 300); do
  curl -sk -o /dev/null -H "Host: $HOST" "$RAMPART/readyz" && { ready=1; break; }
  sleep 0.2
done
[ "$ready" = 1 ] || { tail -20 "$DIR/rampart.log" >&2; die "Rampart did not become ready"; }
RSS_START_KB=$(awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null)

call() { # METHOD PATH [JSON] [token]: prints the body, fails on a status outside 2xx
  curl -skf -X "$1" -H "Host: $HOST" -H "Content-Type: application/json" ${4:+-H "Authorization: Bearer $4"} ${3:+--data "$3"} "$RAMPART$2"
}
echo "== seed: an account, a token, a public note"
(cd "$ROOT/src/Rampart.Web" && printf '%s\n' "$PASSWORD" | dotnet "$APP" users create --name bench --email bench@example.org --password-stdin >"$DIR/seed.log" 2>&1) \
  || { cat "$DIR/seed.log" >&2; die "could not create the account"; }
TOKEN=$(call POST /api/v1/auth/token "{\"userName\":\"bench\",\"password\":\"$PASSWORD\",\"name\":\"bench\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])') \
  || die "could not get a token"
MARKDOWN=$(python3 -c 'print(("A public note for the benchmark, with **bold**, a [link](https://example.org) and a list:\n\n- one\n- two\n\n" * 8).replace("\n", "\\n"))')
NOTE=$(call POST /api/v1/notes "{\"title\":\"Benchmark note\",\"markdown\":\"$MARKDOWN\",\"visibility\":\"public\",\"tags\":[\"bench\",\"read\"]}" "$TOKEN") \
  || die "could not create the note"
NOTE_ID=$(printf '%s' "$NOTE" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
SLUG=$(printf '%s' "$NOTE" | python3 -c 'import json,sys; print(json.load(sys.stdin)["publicSlug"])')
call GET "/api/v1/notes/$NOTE_ID" "" "$TOKEN" >"$DIR/note.json" || die "could not read the note"
curl -skf -o /dev/null -H "Host: $HOST" "$RAMPART/p/$SLUG" || die "the public page did not answer 200"
# Spend the address's sign-in budget, so every P3 request meets the limit.
for _ in $(seq 1 40); do curl -sk -o /dev/null -X POST -H "Host: $HOST" --data 'UserName=bench&Password=wrong' "$RAMPART/account/login"; done
[ "$(curl -sk -o /dev/null -w '%{http_code}' -X POST -H "Host: $HOST" --data 'UserName=bench&Password=wrong' "$RAMPART/account/login")" = 429 ] \
  || die "the sign-in limit did not answer 429 after 40 attempts"

(exec dotnet "$BARE" --urls "https://127.0.0.1:$BARE_PORT" --body "$DIR/note.json" --certificate "$DIR/data/tls/selfsigned.pfx" >"$DIR/bare.log" 2>&1) &
PIDS+=("$!")
ready=0
for _ in $(seq 1 100); do curl -skf -o /dev/null "https://127.0.0.1:$BARE_PORT/" && { ready=1; break; }; sleep 0.2; done
[ "$ready" = 1 ] || { cat "$DIR/bare.log" >&2; die "the bare endpoint did not start"; }
cmp -s "$DIR/note.json" <(curl -sk "https://127.0.0.1:$BARE_PORT/api/v1/notes/x") || die "the bare endpoint does not answer the same bytes"

# One Lua script per figure: the request, and a count of every answer's status (wrk's own summary only
# separates 2xx/3xx from the rest).
status_lua='
statuses = {}
local threads = {}
function setup(thread) table.insert(threads, thread) end
function response(status, headers, body) statuses[status] = (statuses[status] or 0) + 1 end
function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do io.write(string.format("status %d %d\n", status, count)) end
  end
end'
printf '%s\n' "$status_lua" >"$DIR/get.lua"
printf 'wrk.method = "POST"\nwrk.body = "UserName=bench&Password=wrong"\nwrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n%s\n' "$status_lua" >"$DIR/login.lua"

declare -A URL SCRIPT EXPECT HEADERS
URL[bare]="https://127.0.0.1:$BARE_PORT/api/v1/notes/$NOTE_ID"; SCRIPT[bare]=get.lua; EXPECT[bare]=200; HEADERS[bare]=""
URL[P1]="$RAMPART/api/v1/notes/$NOTE_ID"; SCRIPT[P1]=get.lua; EXPECT[P1]=200; HEADERS[P1]="Authorization: Bearer $TOKEN"
URL[P2]="$RAMPART/p/$SLUG"; SCRIPT[P2]=get.lua; EXPECT[P2]=200; HEADERS[P2]=""
URL[P3]="$RAMPART/account/login"; SCRIPT[P3]=login.lua; EXPECT[P3]=429; HEADERS[P3]=""
TARGETS=(bare P1 P2 P3)
declare -A RESULTS VOID

run_wrk() { # target seconds: prints requests/s, or VOID:<statuses>
  local target=$1 seconds=$2 out rps statuses unexpected
  local args=(-t1 "-c$CONNECTIONS" "-d${seconds}s" --timeout 10s -s "$DIR/${SCRIPT[$target]}")
  [ "$target" != bare ] && args+=(-H "Host: $HOST")
  [ -n "${HEADERS[$target]}" ] && args+=(-H "${HEADERS[$target]}")
  out=$(wrk "${args[@]}" "${URL[$target]}" 2>&1)
  printf '%s\n' "$out" >>"$DIR/wrk-$target.log"
  rps=$(printf '%s\n' "$out" | awk '/^Requests\/sec:/ {print $2}')
  statuses=$(printf '%s\n' "$out" | awk '/^status / {printf "%s:%s ", $2, $3}')
  unexpected=$(printf '%s\n' "$out" | awk -v want="${EXPECT[$target]}" '/^status / && $2 != want {n += $3} END {print n + 0}')
  local errors; errors=$(printf '%s\n' "$out" | grep -c 'Socket errors' || true)
  if [ -z "$rps" ] || [ "$unexpected" != 0 ] || [ -z "$statuses" ] || [ "$errors" != 0 ]; then
    echo "VOID:${statuses:-no answers}$( [ "$errors" != 0 ] && printf '%s' "$(printf '%s\n' "$out" | grep 'Socket errors')")"
  else
    echo "$rps"
  fi
}

if [ "$SERVE" = 1 ]; then
  echo "== serving; Rampart pid $SERVER_PID; load with:"
  for target in "${TARGETS[@]}"; do
    echo "   $target: wrk -t1 -c$CONNECTIONS -d10s -s $DIR/${SCRIPT[$target]} $( [ "$target" != bare ] && printf -- "-H 'Host: %s' " "$HOST")$( [ -n "${HEADERS[$target]}" ] && printf -- "-H '%s' " "${HEADERS[$target]}")${URL[$target]}"
  done
  echo "   (interrupt to stop)"
  while kill -0 "$SERVER_PID" 2>/dev/null; do sleep 1; done
  cleanup
  exit 0
fi

echo "== warm up (${WARMUP} s each)"
for target in "${TARGETS[@]}"; do run_wrk "$target" "$WARMUP" >/dev/null; done

if [ -n "$PROFILE" ]; then
  mkdir -p "$PROFILE"; PROFILE=$(cd "$PROFILE" && pwd)
  dotnet tool restore >/dev/null || die "could not restore dotnet-trace (dotnet tool restore)"
  for target in P1 P2 P3; do
    echo "== profile $target (CPU sampling, 8 s under load)"
    dotnet dotnet-trace collect -p "$SERVER_PID" --profile dotnet-sampled-thread-time --duration 00:00:00:08 -o "$PROFILE/$target.nettrace" >"$PROFILE/$target.collect.log" 2>&1 &
    collector=$!
    sleep 1
    run_wrk "$target" 8 >/dev/null
    wait "$collector"
    dotnet dotnet-trace report "$PROFILE/$target.nettrace" topN -n 40 --inclusive >"$PROFILE/$target.inclusive.txt" 2>&1
    dotnet dotnet-trace report "$PROFILE/$target.nettrace" topN -n 40 >"$PROFILE/$target.exclusive.txt" 2>&1
    echo "   $PROFILE/$target.{inclusive,exclusive}.txt"
  done
  cleanup
  exit 0
fi
for round in $(seq 1 "$ROUNDS"); do
  echo "== round $round of $ROUNDS (${DURATION} s each)"
  for target in "${TARGETS[@]}"; do
    result=$(run_wrk "$target" "$DURATION")
    echo "   $target: $result"
    if [[ $result == VOID:* ]]; then VOID[$target]=${result#VOID:}; else RESULTS[$target]="${RESULTS[$target]:-} $result"; fi
  done
done

RSS_KB=$(awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null)
HWM_KB=$(awk '/^VmHWM:/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null)
# Where the resident memory is: the managed heap, the JIT's code (the double-mapped memfd), mapped files, the rest.
MEMORY=$(awk '/^[0-9a-f]+-/ {name = $6 == "" ? "anonymous (GC heap, native)" : ($6 ~ /doublemapper/ ? "JIT code and stubs" : ($6 ~ /\.(so|dll)/ ? "mapped libraries and assemblies" : $6))}
              /^Rss:/ {rss[name] += $2} END {for (n in rss) if (rss[n] >= 1024) printf "%s %.0f MB; ", n, rss[n] / 1024}' "/proc/$SERVER_PID/smaps" 2>/dev/null)
echo "   resident memory by kind: $MEMORY"
echo "== P4: Markdown rendered and sanitized (in process, ${P4_SECONDS} s)"
P4_LINE=$(dotnet "$MICRO" markdown-throughput "$P4_SECONDS" 2>&1 | tail -1)
P4_STATUS=$?
echo "   $P4_LINE"

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {if (NR == 0) print ""; else if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
declare -A MEDIAN
for target in "${TARGETS[@]}"; do
  if [ -n "${VOID[$target]:-}" ]; then MEDIAN[$target]=""; else MEDIAN[$target]=$(printf '%s' "${RESULTS[$target]:-}" | median); fi
done

BARE_RPS=${MEDIAN[bare]}
ratio() { # target
  local value=${MEDIAN[$1]}
  [ -n "$value" ] && [ -n "$BARE_RPS" ] && awk -v v="$value" -v b="$BARE_RPS" 'BEGIN {printf "%.0f %%", 100 * v / b}'
}
met() { # target percent-target
  local value=${MEDIAN[$1]}
  [ -n "$value" ] && [ -n "$BARE_RPS" ] || { echo "void"; return; }
  awk -v v="$value" -v b="$BARE_RPS" -v t="$2" 'BEGIN {print (100 * v / b >= t) ? "met" : "not met"}'
}
figure() { # target
  if [ -n "${VOID[$1]:-}" ]; then echo "void (statuses ${VOID[$1]% })"; else printf '%.0f /s' "${MEDIAN[$1]}"; fi
}
P4_MBS=$(printf '%s' "$P4_LINE" | sed -n 's/.*MB\/s=\([0-9.]*\).*/\1/p')
P4_THROUGH=$(printf '%s' "$P4_LINE" | sed -n 's/.*xss_through=\([0-9]*\).*/\1/p')
P4_PAYLOADS=$(printf '%s' "$P4_LINE" | sed -n 's/.*xss_payloads=\([0-9]*\).*/\1/p')
P4_MET=$(awk -v m="${P4_MBS:-0}" -v t="${P4_THROUGH:-1}" 'BEGIN {print (m >= 5 && t == 0) ? "met" : "not met"}')
[ "$P4_STATUS" = 0 ] || P4_MET="not met"
RSS_MB=$(awk -v k="${RSS_KB:-0}" 'BEGIN {printf "%.0f", k / 1024}')
RSS_START_MB=$(awk -v k="${RSS_START_KB:-0}" 'BEGIN {printf "%.0f", k / 1024}')
HWM_MB=$(awk -v k="${HWM_KB:-0}" 'BEGIN {printf "%.0f", k / 1024}')
P5_MET=$(awk -v m="$RSS_MB" 'BEGIN {print (m > 0 && m <= 150) ? "met" : "not met"}')

TABLE=$(cat <<EOF
| | Figure | Ratio to bare | Target | |
|---|---:|---:|---|---|
| Bare Kestrel endpoint, same JSON over TLS | $(figure bare) | 100 % | | |
| P1 \`GET /api/v1/notes/{id}\` with a bearer token | $(figure P1) | $(ratio P1) | ≥ 50 % | $(met P1 50) |
| P2 public page \`/p/{slug}\` | $(figure P2) | $(ratio P2) | ≥ 40 % | $(met P2 40) |
| P3 sign-in refused by the rate limiter (429) | $(figure P3) | $(ratio P3) | ≥ 70 % | $(met P3 70) |
| P4 note save: Markdown rendered and sanitized (one thread) | ${P4_MBS:-?} MB/s | | ≥ 5 MB/s, XSS corpus blocked (${P4_THROUGH:-?} of ${P4_PAYLOADS:-?} through) | $P4_MET |
| P5 server resident memory after the run (peak; at start) | $RSS_MB MB ($HWM_MB MB; $RSS_START_MB MB) | | ≤ 150 MB | $P5_MET |
EOF
)
MACHINE="$(nproc) cores, $(awk '/^MemTotal:/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), $(. /etc/os-release && echo "$PRETTY_NAME"), .NET $(dotnet --list-runtimes | awk '/Microsoft.AspNetCore.App/ {v=$2} END {print v}'), $(wrk --version 2>&1 | head -1 | awk '{print $1, $2}')"
RUN="$(date -u +%Y-%m-%d), $PROVIDER, wrk -t1 -c$CONNECTIONS, $ROUNDS interleaved rounds of ${DURATION} s (medians)$( [ "$QUICK" = 1 ] && echo ', --quick')"
echo
echo "Run: $RUN"
echo "Machine: $MACHINE"
echo
echo "$TABLE"
echo
for target in "${TARGETS[@]}"; do echo "$target rounds:${RESULTS[$target]:-} ${VOID[$target]:+void: ${VOID[$target]}}"; done

if [ "$WRITE" = 1 ]; then
  section=$(printf '<!-- bench.sh %s -->\n### %s\n\nMachine: %s\n\n%s\n\nRounds (requests/s): bare%s; P1%s; P2%s; P3%s.\n<!-- /bench.sh %s -->' \
    "$PROVIDER" "$RUN" "$MACHINE" "$TABLE" "${RESULTS[bare]:-}" "${RESULTS[P1]:-}" "${RESULTS[P2]:-}" "${RESULTS[P3]:-}" "$PROVIDER")
  python3 - "$ROOT/docs/benchmarks.md" "$PROVIDER" "$section" <<'PY'
import re, sys
path, provider, section = sys.argv[1], sys.argv[2], sys.argv[3]
text = open(path, encoding="utf-8").read()
pattern = re.compile(r"<!-- bench\.sh %s -->.*?<!-- /bench\.sh %s -->" % (provider, provider), re.S)
if pattern.search(text):
    text = pattern.sub(lambda _: section, text)
else:
    anchor = "<!-- bench.sh results -->"
    if anchor not in text:
        text = text.rstrip("\n") + "\n\n## scripts/bench.sh\n\n" + anchor + "\n"
    text = text.replace(anchor, anchor + "\n\n" + section)
open(path, "w", encoding="utf-8").write(text)
PY
  echo "(written to docs/benchmarks.md)"
fi
cleanup
exit 0
