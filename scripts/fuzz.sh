#!/usr/bin/env bash
# Builds the binary-codec fuzzer (Fuzz/BinaryFuzz.swift) with libFuzzer and AddressSanitizer,
# then runs it for a bounded time.
#
# Usage: scripts/fuzz.sh [seconds] [extra libFuzzer flags...]     (default: 30 seconds)
# Crashes are written to .build/fuzz/ as crash-<sha1>; the corpus grows in .build/fuzz/corpus.
# SwiftPM cannot build libFuzzer targets, hence plain swiftc: Reactor's Zlib.swift becomes its own
# module (WAProtocol imports Reactor), and the WAProtocol binary sources plus the entry point one more.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-30}
[ $# -gt 0 ] && shift
swiftc=${SWIFTC:-swiftc}
out=.build/fuzz
mkdir -p "$out/corpus"

flags=(-package-name openwa -parse-as-library -swift-version 6 -O -g -sanitize=fuzzer,address
  -enable-upcoming-feature ExistentialAny -enable-upcoming-feature MemberImportVisibility
  -I Sources/CShims/CZlib -I "$out")

echo "fuzz: building Reactor (Zlib only)"
"$swiftc" "${flags[@]}" -module-name Reactor -wmo -emit-module -emit-module-path "$out/Reactor.swiftmodule" \
  -c Sources/Reactor/System/Zlib.swift -o "$out/Reactor.o"

echo "fuzz: building the fuzzer"
# Only the error type and the binary codec: the rest of WAProtocol needs Reactor's crypto.
mapfile -t sources < <(find Sources/Engines/WAProtocol/Binary -name '*.swift' | sort)
sources+=(Sources/Engines/WAProtocol/ProtocolError.swift)
"$swiftc" "${flags[@]}" -module-name BinaryFuzz "${sources[@]}" Fuzz/BinaryFuzz.swift "$out/Reactor.o" -lz \
  -o "$out/binary-fuzz"

# Seed the corpus with a few reference encodings (§7.3) and an intro + frame, once.
seed() {
  local bytes="" i
  for ((i = 0; i < ${#2}; i += 2)); do bytes+="\\x${2:i:2}"; done
  printf "$bytes" > "$out/corpus/seed-$1"
}
if [ -z "$(ls -A "$out/corpus")" ]; then
  seed keepalive 00f80a1908ff831b2a4f11fa000304291657f801f80156
  seed success 00f80d4c1aff0517000000005cee044becdf3dfc036672633cff05169000000076f70107ff88123456789012345f
  seed pair-device 00f80a1906fa0003045a08eee216fc026d64f801f802edeef802f802ed50fc06324041414141f802ed50fc06324042424242
  seed compressed 0278dafbc1f287293389ed1703f30fc61fcc428eba00404b063d
  seed interop 00f8031911f5ff0310000100020007fc07696e7465726f70
  seed intro 035741060300000400f80156
  seed text '3c697120746f3d732e77686174736170702e6e65743e3c70696e672f3e3c2f69713e'
fi

echo "fuzz: running for ${seconds}s"
cd "$out"
./binary-fuzz -max_total_time="$seconds" -print_final_stats=1 "$@" corpus
