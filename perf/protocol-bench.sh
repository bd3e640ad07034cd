#!/usr/bin/env bash
# Protocol hot paths (release build) with `openssl speed` in the same run as the anchor for the
# media path: our streaming encryption does AES-256-CBC, HMAC-SHA256 and two SHA-256s per byte,
# so its MB/s is compared with OpenSSL's raw AES-256-CBC on 16 KiB blocks.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh build
swift build -c release --product protocol-bench >/dev/null
out=$(./.build/release/protocol-bench)
echo "$out"
anchor=$(openssl speed -evp aes-256-cbc -seconds 3 -bytes 16384 2>/dev/null | awk '/^aes-256-cbc|^AES-256-CBC/ {v=$NF} END {sub("k","",v); print v/1000}')
ours=$(echo "$out" | awk '/media encrypt/ {print $(NF-1)}')
echo
printf 'openssl aes-256-cbc (16 KiB blocks): %.1f MB/s\n' "$anchor"
awk -v a="$ours" -v b="$anchor" 'BEGIN { printf "media encryption / openssl aes-256-cbc: %.2f\n", a / b }'
