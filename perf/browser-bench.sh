#!/usr/bin/env bash
# Memory per browser session and start-to-QR time of the browser engine, for 1, 4 and 8
# sessions with both Debian Chromium builds (chromium in --headless=new, chromium-headless-shell).
#
# Each session is its own Chromium on the DevTools pipe, showing the test fixture page that
# stands in for WhatsApp Web (served offline through Fetch interception), so the figures are a
# floor: real WhatsApp Web adds its own JS heap and caches (hundreds of MB per session).
# PSS splits shared pages among the processes that map them (the honest per-session cost);
# RSS-sum counts them once per process. Not part of the test command.
#
# Usage: perf/browser-bench.sh [session counts...]   (default: 1 4 8)
set -euo pipefail
cd "$(dirname "$0")/.."

counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(1 4 8)
./scripts/setup.sh perf
echo "building browser-bench (release)..."
swift build -c release --product browser-bench >/dev/null
bench=.build/release/browser-bench
fixture=Tests/EnginesTests/Fixtures/fake-wa-web.html

for build in chromium headless-shell; do
  for count in "${counts[@]}"; do
    "$bench" "$count" "$build" "$fixture"
  done
done
