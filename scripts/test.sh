#!/usr/bin/env bash
# The test command (`make test`): installs what the tests need, checks the module rules,
# builds, starts the throw-away test services (PostgreSQL), runs every test suite, and stops
# the services again whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh test
./scripts/check-imports.sh
swift build --build-tests

trap './scripts/services.sh stop' EXIT
# Assigned first so that a failing start stops the script (set -e ignores it inside eval).
services_env=$(./scripts/services.sh start)
eval "$services_env"
# With this set, a suite that needs a service fails instead of skipping when it is missing.
export OPENWA_TEST_SERVICES=1
swift test --skip-build "$@"
