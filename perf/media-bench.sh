#!/usr/bin/env bash
# S3 upload/download MB/s through our storage layer (SigV4 over our HTTP client) against a local
# S3-compatible server (moto, from scripts/services.sh), with boto3 (the AWS SDK for Python)
# against the same server in the same run as the anchor.
#
# Usage: perf/media-bench.sh [megabytes]     (default 64)
set -euo pipefail
cd "$(dirname "$0")/.."
megabytes="${1:-64}"
work=$(mktemp -d /tmp/openwa-mediabench.XXXXXX)
chmod 0755 "$work"  # the PostgreSQL test cluster runs as the postgres user and must reach its directory
export OPENWA_SERVICES_DIR="$work/services"
cleanup() { ./scripts/services.sh stop >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

./scripts/setup.sh perf
python3 -c 'import boto3' 2>/dev/null || python3 -m pip install --quiet boto3
echo "building media-bench (release)..."
swift build -c release --product media-bench >/dev/null
# Assigned first so that a failing start stops the script (set -e ignores it inside eval).
services_env=$(./scripts/services.sh start)
eval "$services_env"

ours=$(./.build/release/media-bench "$megabytes")
anchor=$(python3 - "$OPENWA_S3_ENDPOINT" "$megabytes" <<'PY'
import io, sys, time, boto3
endpoint, megabytes = sys.argv[1], int(sys.argv[2])
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id="bench", aws_secret_access_key="bench")
s3.create_bucket(Bucket="anchor")
data = b"\x42" * (megabytes << 20)
up = down = 0.0
for round in range(3):
    start = time.perf_counter(); s3.upload_fileobj(io.BytesIO(data), "anchor", "object"); up = max(up, len(data) / 1e6 / (time.perf_counter() - start))
    start = time.perf_counter(); sink = io.BytesIO(); s3.download_fileobj("anchor", "object", sink); down = max(down, len(data) / 1e6 / (time.perf_counter() - start))
    assert sink.getbuffer().nbytes == len(data)
print(f"boto3-upload {up:.1f}")
print(f"boto3-download {down:.1f}")
PY
)
printf '%-10s %14s %14s %8s\n' direction "openwa MB/s" "boto3 MB/s" ratio
for direction in upload download; do
  o=$(echo "$ours" | awk -v k="openwa-$direction" '$1==k {print $2}')
  a=$(echo "$anchor" | awk -v k="boto3-$direction" '$1==k {print $2}')
  printf '%-10s %14s %14s %8s\n' "$direction" "$o" "$a" "$(awk -v x="$o" -v y="$a" 'BEGIN { printf "%.2f", x / y }')"
done
echo "(${megabytes} MiB object, best of 3, moto on loopback, $(nproc) cores)"
