#!/usr/bin/env bash
# Regenerates the Swift code for our protobuf schemas. The build never runs this: the generated files
# under Sources/Engines/WAProtocol/Proto/Generated are committed.
#
# Needs `protoc` (Debian: protobuf-compiler) and swift-protobuf's protoc-gen-swift at the version the
# package pins (1.39.0). Build the plugin once from a swift-protobuf checkout:
#   git checkout 1.39.0 && swift build -c release --product protoc-gen-swift
# and point PROTOC_GEN_SWIFT at .build/release/protoc-gen-swift (default: protoc-gen-swift on PATH).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
proto_dir="$root/Sources/Engines/WAProtocol/Proto"
out_dir="$proto_dir/Generated"
plugin="${PROTOC_GEN_SWIFT:-$(command -v protoc-gen-swift || true)}"

if [[ -z "$plugin" || ! -x "$plugin" ]]; then
    echo "protoc-gen-swift not found: set PROTOC_GEN_SWIFT to the built plugin" >&2
    exit 1
fi
command -v protoc >/dev/null || { echo "protoc not found (apt-get install protobuf-compiler)" >&2; exit 1; }

# Start from an empty directory so a deleted .proto does not leave a stale .pb.swift behind.
rm -rf "$out_dir"
mkdir -p "$out_dir"

# Visibility=Package: generated types are `package`, like the rest of the module's cross-module API.
protoc \
    --plugin=protoc-gen-swift="$plugin" \
    --proto_path="$proto_dir" \
    --swift_opt=Visibility=Package \
    --swift_opt=FileNaming=DropPath \
    --swift_out="$out_dir" \
    "$proto_dir"/*.proto

echo "generated $(ls "$out_dir" | wc -l) files in ${out_dir#"$root"/}"
