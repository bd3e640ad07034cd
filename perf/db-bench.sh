#!/usr/bin/env bash
# Message-row throughput of our database drivers, with pgbench as the anchor, in one run.
#
# A throw-away PostgreSQL cluster (scripts/services.sh, fsync off) serves both our PostgreSQL
# driver and pgbench; SQLite runs on a file in a temp directory (WAL, synchronous=NORMAL).
# The workload is OpenWA's `messages` table (DataSchema v2): single autocommitted INSERTs, as
# inbound messages are stored, then "newest 20 messages of a chat" SELECTs, each with
# CONCURRENCY statements in flight. pgbench runs the same two statements (prepared, same
# client count) against the same table. The ratio column is ours / pgbench.
#
# Usage: perf/db-bench.sh [rows] [queries] [concurrency]
set -euo pipefail
cd "$(dirname "$0")/.."

rows="${1:-20000}"
queries="${2:-20000}"
concurrency="${3:-16}"
work=$(mktemp -d /tmp/openwa-dbbench.XXXXXX)
chmod 0755 "$work"  # the cluster runs as the postgres user, which must reach its directory
export OPENWA_SERVICES_DIR="$work/services"
cleanup() {
  ./scripts/services.sh stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

./scripts/setup.sh perf
echo "building db-bench (release)..."
swift build -c release --product db-bench >/dev/null
services_env=$(./scripts/services.sh start)
eval "$services_env"
export PGPASSWORD="$OPENWA_PG_PASSWORD"
psql_run() { psql -q -X -v ON_ERROR_STOP=1 -h "$OPENWA_PG_HOST" -p "$OPENWA_PG_PORT" -U "$OPENWA_PG_USER" -d "$OPENWA_PG_DB" "$@"; }
psql_run -c "CREATE SCHEMA ours; CREATE SCHEMA anchor"

declare -A result
run_ours() {  # driver target
  local line
  while read -r line; do
    echo "  $line"
    local op per_second
    op=$(sed -n 's/.* op=\([a-z]*\).*/\1/p' <<<"$line")
    per_second=$(sed -n 's/.*per_second=\([0-9]*\).*/\1/p' <<<"$line")
    result["$1.$op"]=$per_second
  done < <(./.build/release/db-bench "$1" "$2" "$rows" "$queries" "$concurrency" | grep '^RESULT')
}

echo "our drivers: $rows inserts, $queries queries, $concurrency in flight"
run_ours sqlite "$work/bench.sqlite"
run_ours postgres ours

# The anchor's table: the same migration, applied by our driver into another schema. (No colons
# in the scripts' SQL besides the variables: pgbench would read `:MI` as one.)
./.build/release/db-bench postgres anchor 0 0 1 >/dev/null 2>&1 || true
cat >"$work/insert.sql" <<SQL
\set n random(1, 100000000)
INSERT INTO anchor.messages ("id", "sessionId", "waMessageId", "chatId", "from", "to", "body", "type", "direction", "timestamp", "status", "createdAt") VALUES (gen_random_uuid()::text, 'session-' || (:n % 4), gen_random_uuid()::text, (:n % 50) || '@c.us', (:n % 50) || '@c.us', 'me@c.us', 'message body number ' || :n || ', about as long as a chat line', 'text', 'incoming', 1790000000 + :n, 'delivered', (now() AT TIME ZONE 'UTC')::text);
SQL
cat >"$work/query.sql" <<SQL
\set n random(0, 999)
SELECT * FROM anchor.messages WHERE "sessionId" = 'session-' || (:n % 4) AND "chatId" = (:n % 50) || '@c.us' ORDER BY "createdAt" DESC LIMIT 20;
SQL
pgbench_tps() {  # script transactions
  pgbench -n -M prepared -c "$concurrency" -j 2 -t "$2" -f "$1" -h "$OPENWA_PG_HOST" -p "$OPENWA_PG_PORT" \
    -U "$OPENWA_PG_USER" "$OPENWA_PG_DB" 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1 | cut -d. -f1
}
result[pgbench.insert]=$(pgbench_tps "$work/insert.sql" $(( (rows + concurrency - 1) / concurrency )))
result[pgbench.query]=$(pgbench_tps "$work/query.sql" $(( (queries + concurrency - 1) / concurrency )))
echo "  pgbench insert: ${result[pgbench.insert]}/s, query: ${result[pgbench.query]}/s"

echo
printf '%-10s %-22s %12s %10s\n' op target per_second ratio
for op in insert query; do
  anchor=${result[pgbench.$op]}
  for target in pgbench postgres sqlite; do
    value=${result[$target.$op]:-0}
    ratio=$(awk -v a="$value" -v b="$anchor" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
    name=$target
    [ "$target" = postgres ] && name="openwa postgres"
    [ "$target" = sqlite ] && name="openwa sqlite"
    [ "$target" = pgbench ] && name="pgbench (anchor)"
    printf '%-10s %-22s %12s %10s\n' "$op" "$name" "$value" "$ratio"
  done
done
