#!/usr/bin/env bash
# Load benchmark of POST /state/user/{userID}/interact on the Redis store (docs/redis.md).
#
#   bench/redis/run.sh [DURATION_S] [CONNECTIONS] [RATE]
#
# Starts a private redis-server on a free port (BENCH_REDIS_URL=redis://… to use another one;
# BENCH_CLUSTER=1 for a private 3-node Redis Cluster via scripts/redis-cluster), builds and
# starts `flowdm serve --redis … --workers $WORKERS` on the counter agent, gives each of the
# USERS users (per wrk thread) a stored state of about STATE_BYTES (default 4096) bytes, then:
#   1. throughput: wrk -t2 -c$CONNECTIONS for DURATION_S seconds (every request one tick turn);
#   2. latency at a fixed offered rate: the open-loop generator (bench/redis/loadgen.rs) at
#      RATE (default 2000) requests/s for DURATION_S seconds;
# and after each run the Redis round trips per request, from INFO commandstats: a turn is two
# pipelines, begin (one SET NX PX of the lock + GETs) and commit (PSETEX + one EVALSHA), and SET
# and EVALSHA are never called from inside the scripts, so round trips = SET + EVALSHA calls.
# MODE=throughput or MODE=latency runs only that part (default: both). FLOWDM_BIN: the server
# binary to measure (default: the release build of this checkout, built first).
# Only 127.0.0.1 is targeted; every load stops by itself.
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION="${1:-10}"
CONNECTIONS="${2:-64}"
RATE="${3:-2000}"
WORKERS="${WORKERS:-2}"
USERS="${USERS:-200}"
STATE_BYTES="${STATE_BYTES:-4096}"
VERSION=c0ffee000000000000000002

for tool in wrk redis-server redis-cli curl; do
  if ! command -v "$tool" >/dev/null; then
    echo "installing $tool" >&2
    pkg="$tool"; [[ "$tool" == redis-* ]] && pkg=redis-server
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg") >/dev/null
  fi
done
if [ -z "${FLOWDM_BIN:-}" ]; then
  cargo build --release --quiet --bin flowdm --example loadgen
else
  cargo build --release --quiet --example loadgen
fi
FLOWDM_BIN="${FLOWDM_BIN:-./target/release/flowdm}"

TMP="$(mktemp -d)"
REDIS_PID=""; SERVER_PID=""; CLUSTER_DIR=""
cleanup() {
  [[ -n "$SERVER_PID" ]] && { kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; }
  [[ -n "$REDIS_PID" ]] && { kill "$REDIS_PID" 2>/dev/null || true; wait "$REDIS_PID" 2>/dev/null || true; }
  [[ -n "$CLUSTER_DIR" ]] && scripts/redis-cluster stop "$CLUSTER_DIR"
  rm -rf "$TMP"
}
trap cleanup EXIT

CLUSTER_ARGS=()
if [[ "${BENCH_CLUSTER:-0}" == 1 ]]; then
  CLUSTER_DIR="$TMP/cluster"
  REDIS_URL="$(scripts/redis-cluster start "$CLUSTER_DIR" 3)"
  CLUSTER_ARGS=(--redis-cluster)
  CLI_PORTS=$(echo "$REDIS_URL" | tr ',' '\n' | sed 's/.*://')
elif [[ -n "${BENCH_REDIS_URL:-}" ]]; then
  REDIS_URL="$BENCH_REDIS_URL"
  CLI_PORTS=$(echo "$REDIS_URL" | sed 's/.*://; s|/.*||')
else
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
  redis-server --port "$PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$TMP" \
    --logfile "$TMP/redis.log" &
  REDIS_PID=$!
  for _ in $(seq 1 100); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.05; done
  REDIS_URL="redis://127.0.0.1:$PORT"
  CLI_PORTS="$PORT"
fi

mkdir -p "$TMP/agents"
cp tests/support/counter.vfr "$TMP/agents/"
RUST_LOG="${RUST_LOG:-warn}" "$FLOWDM_BIN" serve --port 0 --workers "$WORKERS" \
  --diagrams "$TMP/agents" --redis "$REDIS_URL" "${CLUSTER_ARGS[@]}" >"$TMP/out" 2>"$TMP/err" &
SERVER_PID=$!
for _ in $(seq 100); do grep -q 'listening on' "$TMP/out" 2>/dev/null && break; sleep 0.05; done
BASE="$(sed -n 's/^listening on //p' "$TMP/out" | head -1)"
[ -n "$BASE" ] || { cat "$TMP/err" >&2; exit 1; }
echo "flowdm $BASE (workers $WORKERS) on $( [[ -n "$CLUSTER_DIR" ]] && echo "a 3-node Redis Cluster" || echo "one redis-server" ), $(redis-server --version | cut -d' ' -f3)"

# Every user (load-<thread>-<n>, the names interact.lua uses) launches, then gets a padding
# variable so its stored state is about STATE_BYTES.
H=(-H "versionID: $VERSION" -H 'content-type: application/json')
python3 - "$BASE" "$VERSION" "$USERS" "$STATE_BYTES" <<'PY'
import http.client, json, sys
base, version, users, target = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
host = base.split("//", 1)[1]
c = http.client.HTTPConnection(host)
def req(method, path, body=None):
    c.request(method, path, body=json.dumps(body) if body is not None else None,
              headers={"versionID": version, "content-type": "application/json"})
    r = c.getresponse(); data = r.read()
    assert r.status == 200, (r.status, data[:200])
    return data
for t in (0, 1):
    for u in range(users):
        user = f"/state/user/load-{t}-{u}"
        req("POST", user + "/interact", {"action": {"type": "launch"}})
        size = len(req("GET", user))
        pad = max(0, target - size - 12)
        req("PATCH", user + "/variables", {"pad": "x" * pad})
PY
state_len=$(curl -s "$BASE/state/user/load-0-0" "${H[@]}" | wc -c)
echo "stored state: $state_len bytes of JSON per user, $((2 * USERS)) users"
echo "one turn: $(curl -s -X POST "$BASE/state/user/load-0-0/interact" "${H[@]}" -d '{"action":{"type":"tick"}}' | head -c 160)..."

redis_calls() { # calls of the commands given (a regex), summed over every node
  local n=0 p c
  for p in $CLI_PORTS; do
    c=$(redis-cli -p "$p" info commandstats | tr -d '\r' | awk -F'[:=,]' "/^cmdstat_($1):/ {s+=\$3} END {print s+0}")
    n=$((n + c))
  done
  echo "$n"
}
round_trips() { # round_trips REQUESTS: the per-turn figures from INFO commandstats
  local set evalsha all
  set=$(redis_calls 'set'); evalsha=$(redis_calls 'evalsha'); all=$(redis_calls '[a-z|]+')
  python3 -c "r = max($1, 1); print(f'Redis round trips: {$set} lock SET + {$evalsha} EVALSHA for $1 requests = {($set + $evalsha) / r:.3f} per turn ({$all / r:.1f} commands per turn, those inside the commit script included)')"
}
reset_stats() { local p; for p in $CLI_PORTS; do redis-cli -p "$p" config resetstat >/dev/null; done; }
cpu_ticks() { # utime + stime of a process, in clock ticks
  [[ -n "$1" && -r /proc/$1/stat ]] && awk '{print $14 + $15}' "/proc/$1/stat" || echo 0
}
cpu_report() { # PIDs' CPU per request over a run: cpu_report REQUESTS BEFORE_FLOWDM BEFORE_REDIS
  local hz; hz=$(getconf CLK_TCK)
  python3 -c "
r, hz = $1, $hz
f = ($(cpu_ticks "$SERVER_PID") - $2) / hz
d = ($(cpu_ticks "$REDIS_PID") - $3) / hz
print(f'CPU: flowdm {f:.1f} s ({f / r * 1e6:.0f} us/request), redis-server {d:.1f} s ({d / r * 1e6:.0f} us/request)' if $([[ -n "$REDIS_PID" ]] && echo True || echo False) else f'CPU: flowdm {f:.1f} s ({f / r * 1e6:.0f} us/request)')"
}

MODE="${MODE:-both}"
if [[ "$MODE" != latency ]]; then
echo
echo "== throughput: wrk -t2 -c$CONNECTIONS -d${DURATION}s, every request a tick turn on a ~${STATE_BYTES} B state"
reset_stats
f0=$(cpu_ticks "$SERVER_PID"); r0=$(cpu_ticks "$REDIS_PID")
VERSION="$VERSION" BODY='{"action":{"type":"tick"}}' USERS="$USERS" \
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s bench/load/interact.lua "$BASE" | tee "$TMP/wrk.txt"
requests=$(awk '/requests in/ {print $1}' "$TMP/wrk.txt")
round_trips "$requests"
cpu_report "$requests" "$f0" "$r0"
fi
[[ "$MODE" == throughput ]] && exit 0

echo
echo "== latency at a fixed rate: $RATE requests/s offered for ${DURATION}s (open loop)"
reset_stats
./target/release/examples/loadgen --url "$BASE" --rate "$RATE" --duration "$DURATION" \
  --users "$USERS" --user-prefix load-1- --version "$VERSION" | tee "$TMP/loadgen.txt"
ok=$(sed -n 's/.*; \([0-9]*\) ok$/\1/p' "$TMP/loadgen.txt")
round_trips "$ok"
