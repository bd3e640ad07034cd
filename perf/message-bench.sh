#!/usr/bin/env bash
# Message latency (send and receive, p50/p99) at the given rates, and throughput across many
# sessions, through the native engine against the simulator. Details in perf/message-bench.py.
#
# Usage: perf/message-bench.sh [rates=100,1000] [seconds=10] [sessions=1000] [workers=32]
# Goal (issue "Messaging over the native engine"): p99 under 10 ms at 1,000 messages/s both ways.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh build >/dev/null
echo "building openwa (release)..."
swift build -c release --product openwa >/dev/null
ulimit -n "$(ulimit -Hn)"
exec python3 perf/message-bench.py "$@"
