#!/usr/bin/env bash
# Throw-away services for the tests: two PostgreSQL clusters on 127.0.0.1 under a temp dir.
#
#   scripts/services.sh start        initdb + start both clusters (idempotent), print the env
#   scripts/services.sh env          print `export OPENWA_PG_...` lines for the running clusters
#   scripts/services.sh stop         stop both clusters and delete their directories
#   scripts/services.sh fault-stop   stop the "fault" cluster (pg_ctl stop -m fast)
#   scripts/services.sh fault-start  start it again on the same port
#
# The "main" cluster serves every PostgreSQL test; the "fault" cluster exists only to be stopped
# and restarted by the outage tests, so they never disturb the others. Both run with fsync off:
# the data is thrown away. The server refuses to run as root, so as root everything runs as the
# `postgres` user (created by the Debian package) or, failing that, a dedicated `openwa-pg` user.
#
# The directory defaults to one per checkout (OPENWA_SERVICES_DIR overrides it), so two
# worktrees on one machine do not share clusters.
set -euo pipefail
cd "$(dirname "$0")/.."
checkout=$(pwd)
root="${OPENWA_SERVICES_DIR:-/tmp/openwa-services-$(printf '%s' "$checkout" | md5sum | cut -c1-10)}"
script="$checkout/scripts/services.sh"
pg_user=openwa
pg_password=openwa-test-password
pg_database=openwa

bindir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$dir" ] || [ ! -x "$dir/initdb" ]; then
    echo "services.sh: PostgreSQL server binaries not found; run scripts/setup.sh test" >&2
    exit 1
  fi
  echo "$dir"
}

# as_owner CMD...: runs CMD as the cluster owner (root may not run the server).
owner=""
as_owner() {
  if [ "$(id -u)" -ne 0 ]; then "$@"; else runuser -u "$owner" -- "$@"; fi
}
pick_owner() {
  [ "$(id -u)" -eq 0 ] || return 0
  if id postgres >/dev/null 2>&1; then owner=postgres; return; fi
  id openwa-pg >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin openwa-pg
  owner=openwa-pg
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start_cluster NAME: initdb once, then start on the recorded port (or a free one).
start_cluster() {
  local name=$1 dir="$root/$1" bin port tries=0
  bin=$(bindir)
  if [ ! -d "$dir/data" ]; then
    mkdir -p "$dir"
    [ -z "$owner" ] || chown "$owner" "$root" "$dir"
    chmod 0755 "$root"
    printf '%s\n' "$pg_password" >"$dir/pwfile"
    [ -z "$owner" ] || chown "$owner" "$dir/pwfile"
    as_owner "$bin/initdb" -D "$dir/data" -U postgres -N -E UTF8 --no-locale \
      --auth-local=trust --auth-host=scram-sha-256 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
  fi
  if as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then return 0; fi
  while :; do
    port=$(cat "$dir/port" 2>/dev/null || echo $((20000 + RANDOM % 40000)))
    if ! port_in_use "$port" && as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start \
        -o "-k $dir -p $port -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off \
            -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=64MB" >/dev/null; then
      echo "$port" >"$dir/port"
      break
    fi
    tries=$((tries + 1))
    # A recorded port that is now taken is given up for a new one.
    rm -f "$dir/port"
    if [ $tries -ge 5 ]; then echo "services.sh: cannot start PostgreSQL ($name)" >&2; tail -20 "$dir/server.log" >&2; exit 1; fi
  done
  if [ ! -f "$dir/provisioned" ]; then
    as_owner "$bin/psql" -q -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 >/dev/null <<SQL
CREATE ROLE $pg_user LOGIN PASSWORD '$pg_password';
CREATE DATABASE $pg_database OWNER $pg_user;
SQL
    touch "$dir/provisioned"
  fi
}

stop_cluster() {
  local dir="$root/$1"
  [ -d "$dir/data" ] || return 0
  as_owner "$(bindir)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

print_env() {
  [ -f "$root/main/port" ] && [ -f "$root/fault/port" ] || { echo "services.sh: not started" >&2; exit 1; }
  local port fault_port
  port=$(cat "$root/main/port")
  fault_port=$(cat "$root/fault/port")
  cat <<ENV
export OPENWA_PG_HOST=127.0.0.1
export OPENWA_PG_PORT=$port
export OPENWA_PG_USER=$pg_user
export OPENWA_PG_PASSWORD=$pg_password
export OPENWA_PG_DB=$pg_database
export OPENWA_PG_URL=postgresql://$pg_user:$pg_password@127.0.0.1:$port/$pg_database
export OPENWA_PG_FAULT_PORT=$fault_port
export OPENWA_SERVICES_SCRIPT=$script
export OPENWA_SERVICES_DIR=$root
ENV
}

pick_owner
case "${1:-}" in
  start)
    start_cluster main
    start_cluster fault
    print_env
    ;;
  env) print_env ;;
  stop)
    stop_cluster main
    stop_cluster fault
    rm -rf "$root"
    ;;
  fault-stop) stop_cluster fault ;;
  fault-start) start_cluster fault ;;
  *) echo "usage: $0 start|env|stop|fault-stop|fault-start" >&2; exit 2 ;;
esac
