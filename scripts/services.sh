#!/usr/bin/env bash
# Throw-away services for the tests, on 127.0.0.1 under a temp dir: two PostgreSQL clusters,
# two Redis servers (redis-server, no persistence) and an S3-compatible server (moto_server, in
# memory; any credentials are accepted).
#
#   scripts/services.sh start        initdb + start both clusters and both Redis servers
#                                    (idempotent), print the env
#   scripts/services.sh env          print `export OPENWA_PG_...`/`OPENWA_REDIS_...` lines
#   scripts/services.sh stop         stop everything and delete the directories
#   scripts/services.sh fault-stop   stop the "fault" cluster (pg_ctl stop -m fast)
#   scripts/services.sh fault-start  start it again on the same port
#   scripts/services.sh redis-kill   kill -9 the "fault" Redis server's process
#   scripts/services.sh redis-start  start it again on the same port
#   scripts/services.sh s3-stop      stop the S3 server (moto_server)
#   scripts/services.sh s3-start     start it again on the same port
#
# As with PostgreSQL, the "fault" Redis server exists only for the outage tests.
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

# start_redis NAME: a redis-server on the recorded port (or a free one), daemonized, no RDB/AOF.
start_redis() {
  local name=$1 dir="$root/redis-$1" port tries=0
  command -v redis-server >/dev/null || { echo "services.sh: redis-server not found; run scripts/setup.sh test" >&2; exit 1; }
  mkdir -p "$dir"
  if [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then return 0; fi
  while :; do
    port=$(cat "$dir/port" 2>/dev/null || echo $((20000 + RANDOM % 40000)))
    if ! port_in_use "$port"; then
      rm -f "$dir/pid"
      redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --daemonize yes \
        --pidfile "$dir/pid" --logfile "$dir/server.log" --dir "$dir" >/dev/null
      local waited=0
      while ! port_in_use "$port" && [ $waited -lt 50 ]; do sleep 0.1; waited=$((waited + 1)); done
      if port_in_use "$port"; then
        echo "$port" >"$dir/port"
        while [ ! -s "$dir/pid" ] && [ $waited -lt 100 ]; do sleep 0.05; waited=$((waited + 1)); done
        break
      fi
    fi
    tries=$((tries + 1))
    rm -f "$dir/port"
    if [ $tries -ge 5 ]; then echo "services.sh: cannot start Redis ($name)" >&2; tail -20 "$dir/server.log" >&2 || true; exit 1; fi
  done
}

# stop_redis NAME [SIGNAL]: stops the server and waits until its port is closed.
stop_redis() {
  local dir="$root/redis-$1" signal=${2:-TERM} pid waited=0
  [ -f "$dir/pid" ] || return 0
  pid=$(cat "$dir/pid")
  kill "-$signal" "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && [ $waited -lt 100 ]; do sleep 0.05; waited=$((waited + 1)); done
  # A server started from the test process inherits its blocked SIGTERM; make sure it goes.
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$dir/pid"
}

# start_s3: moto_server on the recorded port (or a free one), in the background.
start_s3() {
  local dir="$root/s3" port tries=0
  command -v moto_server >/dev/null || { echo "services.sh: moto_server not found; run scripts/setup.sh test" >&2; exit 1; }
  mkdir -p "$dir"
  if [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then return 0; fi
  while :; do
    port=$(cat "$dir/port" 2>/dev/null || echo $((20000 + RANDOM % 40000)))
    if ! port_in_use "$port"; then
      setsid moto_server -H 127.0.0.1 -p "$port" >"$dir/server.log" 2>&1 </dev/null &
      echo $! >"$dir/pid"
      local waited=0
      while ! port_in_use "$port" && [ $waited -lt 200 ]; do sleep 0.05; waited=$((waited + 1)); done
      if port_in_use "$port"; then echo "$port" >"$dir/port"; break; fi
      kill "$(cat "$dir/pid")" 2>/dev/null || true
    fi
    tries=$((tries + 1))
    rm -f "$dir/port"
    if [ $tries -ge 5 ]; then echo "services.sh: cannot start moto_server" >&2; tail -20 "$dir/server.log" >&2 || true; exit 1; fi
  done
}

stop_s3() {
  local dir="$root/s3" pid waited=0
  [ -f "$dir/pid" ] || return 0
  pid=$(cat "$dir/pid")
  kill "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && [ $waited -lt 100 ]; do sleep 0.05; waited=$((waited + 1)); done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$dir/pid"
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
export OPENWA_REDIS_HOST=127.0.0.1
export OPENWA_REDIS_PORT=$(cat "$root/redis-main/port")
export OPENWA_REDIS_FAULT_PORT=$(cat "$root/redis-fault/port")
export OPENWA_S3_ENDPOINT=http://127.0.0.1:$(cat "$root/s3/port")
export OPENWA_SERVICES_SCRIPT=$script
export OPENWA_SERVICES_DIR=$root
ENV
}

pick_owner
case "${1:-}" in
  start)
    start_cluster main
    start_cluster fault
    start_redis main
    start_redis fault
    start_s3
    print_env
    ;;
  env) print_env ;;
  stop)
    stop_cluster main
    stop_cluster fault
    stop_redis main
    stop_redis fault
    stop_s3
    rm -rf "$root"
    ;;
  fault-stop) stop_cluster fault ;;
  fault-start) start_cluster fault ;;
  redis-kill) stop_redis fault KILL ;;
  redis-start) start_redis fault ;;
  s3-stop) stop_s3 ;;
  s3-start) start_s3 ;;
  *) echo "usage: $0 start|env|stop|fault-stop|fault-start|redis-kill|redis-start|s3-stop|s3-start" >&2; exit 2 ;;
esac
