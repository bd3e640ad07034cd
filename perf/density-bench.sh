#!/usr/bin/env bash
# Session density: N sessions linked to the simulator on this host, then a restart; reports the
# gateway's RSS per idle session, idle CPU, the time for all N to be ready after the restart, and
# the simulator's own footprint. Details in perf/density-bench.py.
#
# Usage: perf/density-bench.sh [sessions=1000] [link-concurrency=16] [idle-seconds=30]
# Goals (issue "WhatsApp simulator and the native engine"): <= 256 KiB RSS per idle session at
# 10,000 sessions, and 10,000 sessions ready within 60 s of a restart on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh build >/dev/null
echo "building openwa (release)..."
swift build -c release --product openwa >/dev/null
# Each session holds a socket in the gateway and one in the simulator.
ulimit -n "$(ulimit -Hn)"
exec python3 perf/density-bench.py "$@"
