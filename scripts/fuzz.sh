#!/usr/bin/env bash
# Builds the libFuzzer targets with AddressSanitizer and runs them for a bounded time:
#   binary  the frame reader and node decoder (Fuzz/BinaryFuzz.swift)
#   signal  the Signal messages, stored records and ciphers (Fuzz/SignalFuzz*.swift)
#   media   the media probe's image, video and audio header readers (Fuzz/MediaFuzz.swift)
#   multipart  the HTTP server's incremental multipart/form-data parser (Fuzz/MultipartFuzz.swift)
#
# Usage: scripts/fuzz.sh [seconds] [binary|signal|media|multipart|all] [extra libFuzzer flags...]
#        (default: 30 seconds, all; with all, the seconds are split evenly between the targets)
# Crashes are written to .build/fuzz/ as crash-<sha1>; the corpora grow in .build/fuzz/corpus (binary),
# .build/fuzz/corpus-signal, .build/fuzz/corpus-media and .build/fuzz/corpus-multipart.
#
# SwiftPM cannot build libFuzzer targets, hence plain swiftc, one module per piece the fuzzers need:
# * Reactor: Zlib.swift for the binary fuzzer, the crypto wrappers of Reactor/System and ReactorError for
#   the Signal one; nothing else of Reactor (the loop, sockets, TLS) is reachable from the parsers.
# * SwiftProtobuf, for the generated Signal protobufs, from the checkout SwiftPM resolved. It is compiled
#   here rather than linked from SwiftPM's build so that it carries the same coverage and ASan
#   instrumentation: the protobuf decoder is the first thing every hostile input goes through. It is
#   pinned and slow to build (minutes with ASan), so it is rebuilt only when its sources change.
# * The fuzzer itself, compiled in one module with the WAProtocol sources it exercises (no `import
#   WAProtocol`, which would drag in the rest of the module).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-30}
[ $# -gt 0 ] && shift
target=all
if [ $# -gt 0 ] && [[ $1 =~ ^(binary|signal|media|multipart|all)$ ]]; then target=$1; shift; fi
swiftc=${SWIFTC:-swiftc}
out=.build/fuzz
mkdir -p "$out/corpus" "$out/corpus-signal" "$out/corpus-media" "$out/corpus-multipart"

flags=(-parse-as-library -swift-version 6 -O -g -sanitize=fuzzer,address
  -enable-upcoming-feature ExistentialAny -Xcc -D_GNU_SOURCE -I "$out")
project_flags=("${flags[@]}" -package-name openwa -enable-upcoming-feature MemberImportVisibility)
for shim in CLinux CZlib COpenSSL CSodium; do project_flags+=(-I "Sources/CShims/$shim"); done
libraries=(-lz -lcrypto -lsodium)

echo "fuzz: building Reactor (Zlib and the crypto wrappers)"
"$swiftc" "${project_flags[@]}" -module-name Reactor -wmo -emit-module -emit-module-path "$out/Reactor.swiftmodule" \
  -c Sources/Reactor/System/Zlib.swift Sources/Reactor/System/Crypto*.swift Sources/Reactor/System/SystemErrorText.swift \
  Sources/Reactor/ReactorError.swift -o "$out/Reactor.o"

build_binary() {
  echo "fuzz: building the binary fuzzer"
  mapfile -t sources < <(find Sources/Engines/WAProtocol/Binary -name '*.swift' | sort)
  sources+=(Sources/Engines/WAProtocol/ProtocolError.swift)
  "$swiftc" "${project_flags[@]}" -module-name BinaryFuzz "${sources[@]}" Fuzz/BinaryFuzz.swift "$out/Reactor.o" \
    "${libraries[@]}" -o "$out/binary-fuzz"
}

build_signal() {
  local protobuf=.build/checkouts/swift-protobuf/Sources/SwiftProtobuf
  [ -d "$protobuf" ] || swift package resolve
  if [ ! -f "$out/SwiftProtobuf.o" ] || [ -n "$(find "$protobuf" -newer "$out/SwiftProtobuf.o" -print -quit)" ]; then
    echo "fuzz: building SwiftProtobuf (once; a few minutes)"
    # Its own package name, as SwiftPM gives it: the library uses `package` declarations internally.
    "$swiftc" "${flags[@]}" -package-name swift_protobuf -module-name SwiftProtobuf -wmo -emit-module \
      -emit-module-path "$out/SwiftProtobuf.swiftmodule" -c "$protobuf"/*.swift -o "$out/SwiftProtobuf.o.partial"
    mv "$out/SwiftProtobuf.o.partial" "$out/SwiftProtobuf.o"
  fi
  echo "fuzz: building the Signal fuzzer"
  local protocol=Sources/Engines/WAProtocol
  "$swiftc" "${project_flags[@]}" -module-name SignalFuzz "$protocol"/Signal/*.swift "$protocol"/ProtocolError*.swift \
    "$protocol"/Proto/Generated/signal_*.pb.swift Fuzz/SignalFuzz*.swift "$out/Reactor.o" "$out/SwiftProtobuf.o" \
    "${libraries[@]}" -o "$out/signal-fuzz"
}

# The probe stands alone: its sources and the test sample builders that seed it, nothing of Reactor.
build_media() {
  echo "fuzz: building the media probe fuzzer"
  "$swiftc" "${project_flags[@]}" -module-name MediaFuzz Sources/Engines/WAProtocol/Media/MediaProbe*.swift \
    Tests/TestSupport/MediaSamples*.swift Fuzz/MediaFuzz.swift -o "$out/media-fuzz"
}

# The form parser stands alone too: plain Swift over bytes, nothing else of Reactor.
build_multipart() {
  echo "fuzz: building the multipart parser fuzzer"
  "$swiftc" "${project_flags[@]}" -module-name MultipartFuzz Sources/Reactor/Codecs/MultipartParser*.swift \
    Fuzz/MultipartFuzz.swift -o "$out/multipart-fuzz"
}

# Seed the binary corpus with a few reference encodings (§7.3) and an intro + frame, once.
seed() {
  local bytes="" i
  for ((i = 0; i < ${#2}; i += 2)); do bytes+="\\x${2:i:2}"; done
  printf "$bytes" > "$out/corpus/seed-$1"
}
seed_binary() {
  [ -z "$(ls -A "$out/corpus")" ] || return 0
  seed keepalive 00f80a1908ff831b2a4f11fa000304291657f801f80156
  seed success 00f80d4c1aff0517000000005cee044becdf3dfc036672633cff05169000000076f70107ff88123456789012345f
  seed pair-device 00f80a1906fa0003045a08eee216fc026d64f801f802edeef802f802ed50fc06324041414141f802ed50fc06324042424242
  seed compressed 0278dafbc1f287293389ed1703f30fc61fcc428eba00404b063d
  seed interop 00f8031911f5ff0310000100020007fc07696e7465726f70
  seed intro 035741060300000400f80156
  seed text '3c697120746f3d732e77686174736170702e6e65743e3c70696e672f3e3c2f69713e'
}

# libFuzzer's -max_total_time does not count its first pass over the corpus, which grows from run to run
# (and Signal inputs near the skipped-key bound take a while), so a run is also stopped from outside a
# few seconds after its time; stopping there is not a failure.
bounded() {
  local seconds=$1 status=0
  shift
  timeout --signal=INT --kill-after=10 $((seconds + 5)) "$@" || status=$?
  if [ $status -eq 124 ]; then echo "fuzz: stopped at the time limit"; return 0; fi
  return $status
}

run_binary() {
  echo "fuzz: running the binary fuzzer for ${1}s"
  (cd "$out" && bounded "$1" ./binary-fuzz -max_total_time="$1" -print_final_stats=1 "${@:2}" corpus)
}

# run_seeded LABEL FUZZER CORPUS SEED_VARIABLE SECONDS [flags...]: a fuzzer that writes its own seeds
# (valid inputs of its kind) into an empty corpus when SEED_VARIABLE names the corpus.
run_seeded() {
  local label=$1 fuzzer=$2 corpus=$3 seed_variable=$4 seconds=$5
  shift 5
  echo "fuzz: running the $label fuzzer for ${seconds}s"
  local seeds=()
  [ -n "$(ls -A "$out/$corpus")" ] || seeds=(env "$seed_variable=$corpus")
  (cd "$out" && bounded "$seconds" "${seeds[@]}" "./$fuzzer" -max_total_time="$seconds" -print_final_stats=1 "$@" "$corpus")
}

# Signal seeds are valid messages, records and scripts from the fuzzer's fixed sessions. No input of a
# few KiB has any business allocating 64 MiB at once.
run_signal() { run_seeded Signal signal-fuzz corpus-signal SIGNAL_FUZZ_SEEDS "$1" -malloc_limit_mb=64 "${@:2}"; }

# Every media walk is linear in the input, so a second per input is already far too long.
run_media() { run_seeded "media probe" media-fuzz corpus-media MEDIA_FUZZ_SEEDS "$1" -timeout=1 -max_len=65536 "${@:2}"; }

# Two linear passes per multipart input: a second is far too long for one.
run_multipart() {
  run_seeded "multipart parser" multipart-fuzz corpus-multipart MULTIPART_FUZZ_SEEDS "$1" -timeout=1 -max_len=65536 "${@:2}"
}

case $target in
  binary) build_binary; seed_binary; run_binary "$seconds" "$@" ;;
  signal) build_signal; run_signal "$seconds" "$@" ;;
  media) build_media; run_media "$seconds" "$@" ;;
  multipart) build_multipart; run_multipart "$seconds" "$@" ;;
  all)
    build_binary
    build_signal
    build_media
    build_multipart
    seed_binary
    quarter=$(((seconds + 3) / 4))
    run_binary "$quarter" "$@"
    run_signal "$quarter" "$@"
    run_media "$quarter" "$@"
    run_multipart "$quarter" "$@"
    ;;
esac
