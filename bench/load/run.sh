#!/usr/bin/env bash
# Load benchmark of POST /state/user/{userID}/interact on the in-memory store.
#
#   bench/load/run.sh [DURATION] [CONNECTIONS] [WRK_THREADS]
#
# Builds the release binary, starts `flowdm serve --port 0` on the example agents, checks one
# turn, then runs wrk (installed with apt-get when missing) with bench/load/interact.lua.
# Environment: VERSION / BODY / USERS (see interact.lua), WORKERS (server workers, default 2),
# SCENARIO=launch|tick (tick: the counter agent, one 4-node turn per request), FLOWDM_BIN (the
# server binary to measure, default: the release build of this checkout, built first).
# Only 127.0.0.1 is targeted; wrk stops by itself after DURATION.
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION="${1:-10s}"
CONNECTIONS="${2:-64}"
THREADS="${3:-2}"
WORKERS="${WORKERS:-2}"
SCENARIO="${SCENARIO:-launch}"

if ! command -v wrk >/dev/null; then
  echo "installing wrk" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk) >/dev/null
fi
if [ -z "${FLOWDM_BIN:-}" ]; then
  cargo build --release --quiet --bin flowdm
fi
FLOWDM_BIN="${FLOWDM_BIN:-./target/release/flowdm}"

DIR="diagrams"
TMP="$(mktemp -d)"
trap 'kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; rm -rf "$TMP"' EXIT
if [ "$SCENARIO" = tick ]; then
  # The counter agent: every {"type":"tick"} runs interaction → set → text → interaction.
  DIR="$TMP/agents"; mkdir -p "$DIR"
  cp tests/support/counter.vfr "$DIR/"
  export VERSION="${VERSION:-c0ffee000000000000000002}"
  export BODY="${BODY:-{\"action\":{\"type\":\"tick\"}}}"
fi

RUST_LOG="${RUST_LOG:-warn}" "$FLOWDM_BIN" serve --port 0 --workers "$WORKERS" --diagrams "$DIR" >"$TMP/out" 2>"$TMP/err" &
SERVER_PID=$!
for _ in $(seq 100); do
  grep -q 'listening on' "$TMP/out" 2>/dev/null && break
  sleep 0.05
done
BASE="$(sed -n 's/^listening on //p' "$TMP/out" | head -1)"
[ -n "$BASE" ] || { cat "$TMP/err" >&2; exit 1; }
V="${VERSION:-64a1f0000000000000000002}"
B="${BODY:-{\"action\":{\"type\":\"launch\"}}}"
echo "server $BASE (workers $WORKERS), scenario $SCENARIO"
echo "one turn: $(curl -s -X POST "$BASE/state/user/probe/interact" -H "versionID: $V" -H 'content-type: application/json' -d "$B" | head -c 200)..."
if [ "$SCENARIO" = tick ]; then
  # Launch every user once so ticks land on a waiting interaction.
  for t in $(seq 0 $((THREADS - 1))); do for u in $(seq 0 $(( ${USERS:-1000} - 1 ))); do
    echo "url = \"$BASE/state/user/load-$t-$u/interact\""; echo "header = \"versionID: $V\""; echo 'data = "{\"action\":{\"type\":\"launch\"}}"'
  done; done > "$TMP/launch.cfg"
  curl -s -Z --parallel-max 32 -K "$TMP/launch.cfg" -o /dev/null || true
fi
echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency -s bench/load/interact.lua $BASE"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/load/interact.lua "$BASE"
