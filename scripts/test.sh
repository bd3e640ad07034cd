#!/usr/bin/env bash
# The test command (`make test`): installs what the tests need, checks the module rules,
# builds, runs a short fuzz of the binary codec, and runs every test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh test
./scripts/check-imports.sh
swift build --build-tests

# A short bounded fuzz run (longer runs: scripts/fuzz.sh 600). Before the suites, so the test
# runner's summary is the last thing printed.
./scripts/fuzz.sh "${FUZZ_SECONDS:-15}"

swift test --skip-build "$@"
