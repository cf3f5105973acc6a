#!/usr/bin/env bash
# Side-by-side benchmark of this checkout against an earlier commit, in one run:
#
#   bench/compare.sh [REF] [ROUNDS] [DURATION_S]
#
# Builds REF's release binary (default HEAD~1) in a worktree outside the checkout
# ($BENCH_BASELINE_DIR, default /tmp/flowdm-bench-baseline; its build is kept for the next run), then runs,
# ROUNDS times (default 3), alternating the two binaries (and which goes first) so that machine
# noise hits both:
#   1. the short-turn load benchmark: SCENARIO=tick bench/load/run.sh (in-memory store);
#   2. the Redis benchmark: MODE=throughput bench/redis/run.sh (4 KB state, wrk);
#   3. the Redis latency at 2000 requests/s offered: MODE=latency bench/redis/run.sh;
#   4. the payment agent's launch (`launch`, bench/load/run.sh's default scenario);
# BENCHES picks some of them (default "tick redis latency launch");
# and prints each run's figure and the medians (requests/s, p99 for the latency run) and the
# ratio this/REF. Only 127.0.0.1 is targeted; every run stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
REF="${1:-HEAD~1}"
ROUNDS="${2:-3}"
DURATION="${3:-10}"
BENCHES="${BENCHES:-tick redis latency launch}"
BASE_DIR="${BENCH_BASELINE_DIR:-/tmp/flowdm-bench-baseline}"

cleanup() { git worktree remove --force "$BASE_DIR/src" >/dev/null 2>&1 || true; }
trap cleanup EXIT
cleanup
git worktree add --detach -f "$BASE_DIR/src" "$REF" >/dev/null
echo "building $REF ($(git -C "$BASE_DIR/src" log -1 --format=%h)) and this checkout" >&2
CARGO_TARGET_DIR="$BASE_DIR/target" cargo build --release --quiet --bin flowdm \
  --manifest-path "$BASE_DIR/src/Cargo.toml"
cargo build --release --quiet --bin flowdm --example loadgen
declare -A BIN=([this]="$PWD/target/release/flowdm" [ref]="$BASE_DIR/target/release/flowdm")

LOG="$(mktemp -d)"
# A short warm-up of each binary (discarded), then the rounds; the order of the two binaries
# alternates from round to round so that neither always runs first.
for who in this ref; do
  FLOWDM_BIN="${BIN[$who]}" SCENARIO=tick USERS=200 bench/load/run.sh 3s 64 >/dev/null 2>&1
done
for round in $(seq 1 "$ROUNDS"); do
  order="this ref"; (( round % 2 == 0 )) && order="ref this"
  for who in $order; do
    for bench in $BENCHES; do
      case "$bench" in
        tick) FLOWDM_BIN="${BIN[$who]}" SCENARIO=tick USERS=200 bench/load/run.sh "${DURATION}s" 64 ;;
        launch) FLOWDM_BIN="${BIN[$who]}" SCENARIO=launch bench/load/run.sh "${DURATION}s" 64 ;;
        redis) FLOWDM_BIN="${BIN[$who]}" MODE=throughput bench/redis/run.sh "$DURATION" 64 2000 ;;
        latency) FLOWDM_BIN="${BIN[$who]}" MODE=latency bench/redis/run.sh "$DURATION" 64 2000 ;;
        *) echo "unknown benchmark $bench" >&2; exit 2 ;;
      esac >"$LOG/$bench-$who-$round" 2>&1
    done
    echo "round $round $who: $(for b in $BENCHES; do
      if [ "$b" = latency ]; then
        echo -n "latency p99 $(sed -n 's/^latency ms:.* p99 \([0-9.]*\).*/\1/p' "$LOG/$b-$who-$round" | head -1) ms; "
      else
        echo -n "$b $(awk '/Requests\/sec/ {print $2}' "$LOG/$b-$who-$round") req/s; "
      fi
    done)"
  done
done
python3 - "$LOG" "$ROUNDS" "$REF" $BENCHES <<'PY'
import re, statistics, sys, pathlib
log, rounds, ref, benches = pathlib.Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4:]
def figures(kind, who):
    out = []
    for r in range(1, rounds + 1):
        text = (log / f"{kind}-{who}-{r}").read_text()
        m = re.search(r"Requests/sec:\s*([\d.]+)", text) if kind != "latency" else re.search(r"latency ms:.*? p99 ([\d.]+)", text)
        if m:
            out.append(float(m.group(1)))
    return out
names = {"tick": "short turn, in-memory, req/s", "launch": "payment launch, in-memory, req/s", "redis": "Redis 4 KB state, req/s", "latency": "Redis p99 at 2000/s, ms"}
for kind in benches:
    what = names[kind]
    this, base = figures(kind, "this"), figures(kind, "ref")
    if this and base:
        mt, mb = statistics.median(this), statistics.median(base)
        print(f"{what}: this {mt:.2f} (runs {this}), {ref} {mb:.2f} (runs {base}), ratio {mt / mb:.3f}")
    else:
        print(f"{what}: no figure, see {log}")
PY
