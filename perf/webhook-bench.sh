#!/usr/bin/env bash
# Webhook delivery throughput and commit-to-delivery latency, on SQLite and PostgreSQL, with the
# receiver's own capacity (wrk POSTing the same body to it) as the anchor, in one run.
#
# The receiver is nginx with one worker and `return 200`. webhook-bench (release) publishes a
# burst of EVENTS `message.received` events (4 sessions × 64 chats, one signed webhook per
# session) and times them until the last is delivered, then publishes RATE events/s for SECONDS
# and reports p50/p99 from outbox commit to the receiver's 2xx.
#
# Usage: perf/webhook-bench.sh [events=50000] [rate=1000] [seconds=10]
# Goals: >= 20,000 deliveries/s sustained; p99 < 5 ms at 1,000 events/s.
#
# BASELINE_BENCH=/path/to/webhook-bench (a release build of another commit, e.g. from a
# `git worktree`) runs that binary too, against the same receiver in the same run, as a second
# anchor for regressions; its rows are printed as `base-sqlite` and `base-postgres`.
set -euo pipefail
cd "$(dirname "$0")/.."

events="${1:-50000}"
rate="${2:-1000}"
seconds="${3:-10}"
work=$(mktemp -d /tmp/openwa-hookbench.XXXXXX)
chmod 0755 "$work"
export OPENWA_SERVICES_DIR="$work/services"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  ./scripts/services.sh stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

./scripts/setup.sh perf
echo "building webhook-bench (release)..."
swift build -c release --product webhook-bench >/dev/null
eval "$(./scripts/services.sh start)"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
# shellcheck source=perf/nginx-anchor.sh
. perf/nginx-anchor.sh
start_nginx "$work" "$port" "return 200 'ok';"
pids+=("$NGINX_PID")
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/" >/dev/null 2>&1 && break; sleep 0.1; done

# The anchor: POSTs of a delivery-sized body over 16 keep-alive connections (our per-destination cap).
body='{"event":"message.received","timestamp":"2026-11-29T12:00:00.000Z","sessionId":"bench-1","idempotencyKey":"msg_bench-1_3EB01_00000000-0000-0000-0000-000000000000","deliveryId":"dlv_00000000-0000-0000-0000-000000000000","data":{"id":"3EB01","chatId":"15551@c.us","from":"15551@c.us","to":"me@c.us","body":"message body number 1, about as long as a chat line","type":"text","timestamp":1790000000,"isGroup":false,"fromMe":false}}'
cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
LUA
anchor=$(wrk -t1 -c16 -d5s -s "$work/post.lua" "http://127.0.0.1:$port/hook" | awk '/^Requests\/sec:/ {printf "%d", $2}')
echo "receiver capacity (wrk, 16 connections): $anchor POST/s"

drivers=(sqlite postgres)
if [ -n "${BASELINE_BENCH:-}" ]; then
  psql "$OPENWA_PG_URL" -qc 'CREATE SCHEMA IF NOT EXISTS base' >/dev/null
  "$BASELINE_BENCH" sqlite "$work/base.sqlite" "$port" "$events" "$rate" "$seconds" | tee "$work/base-sqlite.txt"
  "$BASELINE_BENCH" postgres "base" "$port" "$events" "$rate" "$seconds" | tee "$work/base-postgres.txt"
  drivers=(base-sqlite base-postgres sqlite postgres)
fi
./.build/release/webhook-bench sqlite "$work/hooks.sqlite" "$port" "$events" "$rate" "$seconds" | tee "$work/sqlite.txt"
./.build/release/webhook-bench postgres "public" "$port" "$events" "$rate" "$seconds" | tee "$work/postgres.txt"

echo
printf '%-14s %14s %8s %10s %10s\n' driver deliveries/s ratio p50_ms p99_ms
for driver in "${drivers[@]}"; do
  rps=$(sed -n 's/.*phase=burst.*per_second=\([0-9]*\).*/\1/p' "$work/$driver.txt")
  p50=$(sed -n 's/.*phase=steady.*p50_ms=\([0-9.]*\).*/\1/p' "$work/$driver.txt")
  p99=$(sed -n 's/.*phase=steady.*p99_ms=\([0-9.]*\).*/\1/p' "$work/$driver.txt")
  ratio=$(awk -v a="$rps" -v b="$anchor" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
  printf '%-14s %14s %8s %10s %10s\n' "$driver" "$rps" "$ratio" "$p50" "$p99"
done
