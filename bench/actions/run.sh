#!/usr/bin/env bash
# The HTTP-level cost of a custom action the server runs, against the same turn stopping for
# the client, in one run on one server (issue 12):
#
#   bench/actions/run.sh [DURATION] [CONNECTIONS] [ROUNDS]
#
# One flowdm serves three copies of a small payment agent (launch → "Pay Credit Card" → text),
# each its own project: `client` (the request lists the step in `stopTypes`), `webhook` (a
# registered webhook: GET to a second flowdm's /health on 127.0.0.1, 2xx → success) and `js` (a
# registered JavaScript action with a parameter schema). wrk runs launches against each in
# turn, ROUNDS times, alternating; the medians of requests/s and p50 latency are printed, with
# each mode's ratio to `client`. Builds the release binary unless FLOWDM_BIN is set; installs wrk
# with apt-get when missing. Only 127.0.0.1 is targeted; every wrk run stops after DURATION.
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION="${1:-5s}"
CONNECTIONS="${2:-16}"
ROUNDS="${3:-3}"
WORKERS="${WORKERS:-2}"

if ! command -v wrk >/dev/null; then
  echo "installing wrk" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk) >/dev/null
fi
if [ -z "${FLOWDM_BIN:-}" ]; then
  cargo build --release --quiet --bin flowdm
fi
FLOWDM_BIN="${FLOWDM_BIN:-./target/release/flowdm}"

TMP="$(mktemp -d)"
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$TMP"' EXIT

# start NAME ARGS…: runs flowdm serve, sets BASE to its address.
start() {
  local name="$1"; shift
  RUST_LOG="${RUST_LOG:-error}" "$FLOWDM_BIN" serve --port 0 "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
  PIDS+=($!)
  for _ in $(seq 200); do
    grep -q 'listening on' "$TMP/$name.out" 2>/dev/null && break
    sleep 0.05
  done
  BASE="$(sed -n 's/^listening on //p' "$TMP/$name.out" | head -1)"
  [ -n "$BASE" ] || { cat "$TMP/$name.err" >&2; exit 1; }
}

# The webhook's service: another flowdm, answering GET /health.
mkdir -p "$TMP/none"
start target --workers 1 --diagrams "$TMP/none"
TARGET="$BASE"

mkdir -p "$TMP/agents" "$TMP/actions"
for mode in client webhook js; do
  cat >"$TMP/agents/$mode.vfr" <<JSON
{ "project": { "_id": "p-$mode", "name": "Pay", "type": "chat", "platform": "webchat", "devVersion": "v-$mode" },
  "version": { "_id": "v-$mode", "projectID": "p-$mode", "rootDiagramID": "D", "variables": [],
    "platformData": { "settings": {} },
    "prototype": { "type": "chat", "platform": "webchat", "data": { "name": "Pay", "locales": ["en-US"] },
      "model": { "intents": [], "slots": [] }, "context": { "variables": {} } } },
  "programs": {
    "v-$mode": { "id": "v-$mode", "startId": "", "lines": {}, "commands": [], "variables": [] },
    "D": { "id": "D", "name": "Home", "startId": "start", "commands": [], "variables": [], "lines": {
      "start": { "type": "start", "nextId": "pay" },
      "pay": { "_v": 1, "type": "Pay Credit Card", "payload": { "card": "visa", "amount": 25 }, "defaultPath": 1,
        "paths": [ { "event": { "type": "success" }, "nextID": "ok" }, { "event": { "type": "pending" }, "nextID": "wait" } ] },
      "ok": { "type": "text", "texts": [ { "id": "t", "content": [ { "children": [ { "text": "Paid." } ] } ] } ], "nextId": null },
      "wait": { "type": "text", "texts": [ { "id": "t", "content": [ { "children": [ { "text": "Pending." } ] } ] } ], "nextId": null }
    } } } }
JSON
done
cat >"$TMP/actions/webhook.json" <<JSON
{ "id": "pay-webhook", "name": "Pay Credit Card", "project_id": "p-webhook", "action_type": "webhook",
  "config": { "method": "GET", "url": "$TARGET/health", "status_paths": { "2xx": "success" } } }
JSON
cat >"$TMP/actions/js.json" <<'JSON'
{ "id": "pay-js", "name": "Pay Credit Card", "project_id": "p-js", "action_type": "javascript",
  "config": { "code": "export default async function main({ params }) { return { event: params.card === 'visa' ? 'success' : 'pending' }; }",
    "parameters": [ { "key": "card", "type": "string", "required": true } ], "events_schema": ["success", "pending"] } }
JSON
start server --workers "$WORKERS" --diagrams "$TMP/agents" --actions-dir "$TMP/actions" --allow-outbound 127.0.0.1/32
echo "server $BASE (workers $WORKERS), webhook service $TARGET"

body() {
  if [ "$1" = client ]; then
    echo '{"action":{"type":"launch"},"config":{"stopTypes":["Pay Credit Card"]}}'
  else
    echo '{"action":{"type":"launch"}}'
  fi
}
for mode in client webhook js; do
  answer="$(curl -s -X POST "$BASE/state/user/probe/interact" -H "versionID: v-$mode" -H 'content-type: application/json' -d "$(body $mode)")"
  case "$mode" in
    client) echo "$answer" | grep -q '"Pay Credit Card"' ;;
    *) echo "$answer" | grep -q 'Paid\.' ;;
  esac || { echo "$mode: unexpected answer $answer" >&2; exit 1; }
done

echo "wrk -t2 -c$CONNECTIONS -d$DURATION --latency -s bench/load/interact.lua, $ROUNDS rounds"
for round in $(seq "$ROUNDS"); do
  for mode in client webhook js; do
    VERSION="v-$mode" BODY="$(body $mode)" USERS=500 \
      wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/load/interact.lua "$BASE" >"$TMP/$mode.$round" 2>&1
    rps="$(awk '/^Requests\/sec/ {print $2}' "$TMP/$mode.$round")"
    p50="$(awk '$1 == "50%" {print $2}' "$TMP/$mode.$round")"
    echo "$mode $rps $p50" >>"$TMP/results"
  done
done
python3 - "$TMP/results" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
def ms(t):
    for unit, f in (("us", 1e-3), ("ms", 1.0), ("s", 1e3)):
        if t.endswith(unit):
            return float(t[: -len(unit)]) * f
    return float(t)
med = {}
for mode in ("client", "webhook", "js"):
    r = [(float(x[1]), ms(x[2])) for x in rows if x[0] == mode]
    med[mode] = (statistics.median(a for a, _ in r), statistics.median(b for _, b in r))
base = med["client"][0]
print("| mode | requests/s (median) | p50 latency (median) | throughput against the client's stop |")
print("|---|---|---|---|")
for mode, (rps, p50) in med.items():
    print(f"| {mode} | {rps:,.0f} | {p50:.2f} ms | {rps / base:.2f} |")
PY
