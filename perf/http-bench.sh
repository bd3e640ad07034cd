#!/usr/bin/env bash
# HTTP throughput and latency of the gateway against nginx as the anchor, in one run.
#
# nginx runs one worker with `return 200` and a body shaped like /api/health's; the gateway runs
# its release build with SQLite under a throw-away data directory. wrk drives each target with the
# same threads, connections and duration (keep-alive). The ratio column is gateway / nginx.
#
# Usage: perf/http-bench.sh [duration-seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."

duration="${1:-10}"
connections="${2:-64}"
threads=1
key="owa_k1_$(printf 'cd%.0s' $(seq 1 32))"
work=$(mktemp -d /tmp/openwa-perf.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

./scripts/setup.sh perf
swift build -c release --product openwa >/dev/null

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_for() { for _ in $(seq 1 100); do curl -fsS "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "not up: $1" >&2; exit 1; }

nginx_port=$(free_port)
# shellcheck source=perf/nginx-anchor.sh
. perf/nginx-anchor.sh
start_nginx "$work" "$nginx_port" "default_type application/json; return 200 '{\"status\":\"ok\",\"timestamp\":\"2026-11-29T12:00:00.000Z\"}';"
pids+=("$NGINX_PID")

openwa_port=$(free_port)
DATA_DIR="$work/data" PORT="$openwa_port" LOG_LEVEL=error API_MASTER_KEY="$key" NODE_ENV=development \
  ./.build/release/openwa serve --env-file none >"$work/openwa.log" 2>&1 &
pids+=($!)

wait_for "http://127.0.0.1:$nginx_port/"
wait_for "http://127.0.0.1:$openwa_port/api/health/live"

# wrk's --latency report: "Requests/sec:" and the 50%/99% lines.
measure() {  # name url [header]
  local name=$1 url=$2 header=${3:-}
  local args=(-t"$threads" -c"$connections" -d"${duration}s" --latency)
  [ -n "$header" ] && args+=(-H "$header")
  wrk "${args[@]}" "$url" >"$work/$name.txt"
  local rps p50 p99
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/$name.txt")
  p50=$(awk '$1=="50%" {print $2}' "$work/$name.txt")
  p99=$(awk '$1=="99%" {print $2}' "$work/$name.txt")
  echo "$name $rps $p50 $p99"
}

echo "warming up..."
wrk -t1 -c8 -d2s "http://127.0.0.1:$openwa_port/api/health" >/dev/null
wrk -t1 -c8 -d2s "http://127.0.0.1:$nginx_port/" >/dev/null

results=()
results+=("$(measure nginx "http://127.0.0.1:$nginx_port/")")
results+=("$(measure openwa-health "http://127.0.0.1:$openwa_port/api/health")")
results+=("$(measure openwa-api-keys "http://127.0.0.1:$openwa_port/api/auth/api-keys" "X-API-Key: $key")")

nginx_rps=$(echo "${results[0]}" | awk '{print $2}')
echo
echo "wrk: ${threads} thread, ${connections} connections, ${duration}s each, keep-alive, $(nproc) cores"
printf '%-18s %12s %10s %10s %8s\n' target req/s p50 p99 ratio
for line in "${results[@]}"; do
  read -r name rps p50 p99 <<<"$line"
  ratio=$(awk -v a="$rps" -v b="$nginx_rps" 'BEGIN { printf "%.2f", a / b }')
  printf '%-18s %12s %10s %10s %8s\n' "$name" "$rps" "$p50" "$p99" "$ratio"
done
