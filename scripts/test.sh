#!/usr/bin/env bash
# The test command (`make test`): installs what the tests need, checks the module rules,
# builds (and, on a full run, builds the release binary too), runs a short fuzz of the binary codec, the Signal layer, the media probe and the multipart parser, starts the throw-away test
# services (PostgreSQL, Redis, an S3 server), runs every test suite, and stops the services again
# whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh test
./scripts/check-imports.sh
swift build --build-tests
# The release build `make run` serves from, on a full run: whole-module optimisation can refuse
# what the debug build accepts (a file relying on another file's import did once).
if [ $# -eq 0 ]; then swift build -c release --product openwa; fi

# A short bounded fuzz run, split between the four fuzzers (longer runs: scripts/fuzz.sh 600 signal).
# Before the suites, so the test runner's summary is the last thing printed.
./scripts/fuzz.sh "${FUZZ_SECONDS:-24}"

# Every suite's databases, spools and simulator keys go under one scratch directory that is
# removed with the services, so runs do not pile up in the system's temporary directory.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/openwa-tests.XXXXXX")
trap './scripts/services.sh stop; rm -rf "$scratch"' EXIT
# Assigned first so that a failing start stops the script (set -e ignores it inside eval).
services_env=$(./scripts/services.sh start)
eval "$services_env"
# With this set, a suite that needs a service fails instead of skipping when it is missing.
export OPENWA_TEST_SERVICES=1
# Most suites run real servers, phones and databases and spend their time waiting; all of them at
# once on a small machine starve one another until a 30 s wait for a handshake runs out. A bounded
# width keeps each test's waits short; OPENWA_TEST_WIDTH overrides it.
TMPDIR="$scratch" swift test --skip-build --experimental-maximum-parallelization-width "${OPENWA_TEST_WIDTH:-12}" "$@"
# The 40 MiB media test holds a few hundred MiB in the test process: alone, after the rest, so the
# suites that measure their own resident memory never see it (skipped when a filter was given).
if [ $# -eq 0 ]; then TMPDIR="$scratch" OPENWA_TEST_LARGE_MEDIA=1 swift test --skip-build --filter GatewayLargeMediaTests; fi
