#!/usr/bin/env bash
# The test command (`make test`): installs what the tests need, checks the module rules,
# builds, and runs every test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh test
./scripts/check-imports.sh
swift build --build-tests
swift test --skip-build "$@"

# A short bounded fuzz run of the binary codec (longer runs: scripts/fuzz.sh 600).
./scripts/fuzz.sh "${FUZZ_SECONDS:-15}"
