#!/usr/bin/env bash
# Enforces the module rules of DESIGN.md section 3: C modules are imported only by
# Reactor/System (CLinux, CURing, COpenSSL) and Persistence/Drivers (CSQLite3, CLibPQ, CHiredis),
# and no module imports one above it.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0

c_outside=$(grep -rnE '^\s*(@_implementationOnly |internal |package |public )?import C[A-Za-z0-9]+\b' Sources --include='*.swift' \
  | grep -vE '^Sources/(Reactor/System|Persistence/Drivers)/' || true)
if [ -n "$c_outside" ]; then
  echo "C modules imported outside Reactor/System or Persistence/Drivers:"; echo "$c_outside"; status=1
fi

wrong_c=$( (grep -rnE 'import (CSQLite3|CLibPQ|CHiredis)\b' Sources/Reactor --include='*.swift' || true; \
            grep -rnE 'import (CLinux|CURing|COpenSSL|CZlib|CSodium)\b' Sources/Persistence --include='*.swift' || true) )
if [ -n "$wrong_c" ]; then
  echo "C module imported by the wrong module:"; echo "$wrong_c"; status=1
fi

not_internal=$(grep -rnE '^\s*(@_exported |public |package )?import C[A-Za-z0-9]+\b' Sources/Reactor/System Sources/Persistence/Drivers --include='*.swift' || true)
if [ -n "$not_internal" ]; then
  echo "C modules must be imported with 'internal import':"; echo "$not_internal"; status=1
fi

check_upward() {  # module, forbidden imports...
  local module=$1; shift
  for forbidden in "$@"; do
    hits=$(grep -rnE "^\s*(internal |package |public )?import $forbidden\$" "Sources/$module" --include='*.swift' || true)
    if [ -n "$hits" ]; then echo "$module must not import $forbidden:"; echo "$hits"; status=1; fi
  done
}
check_upward Reactor Persistence Engines API
check_upward Persistence Engines API
check_upward Engines API
check_upward Engines/WAProtocol Persistence Engines API
check_upward Engines/Simulator Persistence Engines API
check_upward API Persistence

[ $status -eq 0 ] && echo "module import rules: ok"
exit $status
