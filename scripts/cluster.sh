#!/usr/bin/env bash
# A multi-host deployment on one machine: each host is a Linux network namespace with its own address,
# joined to the others by veth pairs on one bridge. Needs root (namespaces), and Debian's postgresql,
# redis-server and nginx (installed when missing).
#
#   scripts/cluster.sh start    start the hosts; the site answers at http://10.231.7.5/ (the balancer)
#   scripts/cluster.sh check    start, run benchmarks/cluster_check.py (uploads with a worker host
#                               killed, live clients with a web host killed, throughput with one and two
#                               worker hosts), stop; its last line is one JSON object
#   scripts/cluster.sh stop     kill every process of every host, remove the namespaces and the bridge
#
# Hosts (FER_CLUSTER_NET, default 10.231.7, names prefixed FER_CLUSTER_PREFIX, default fercl):
#   data  .10  PostgreSQL and Redis of its own (not the machine's services), data under the state folder
#   web1  .21, web2 .22   daphne, behind the balancer
#   wk1   .31, wk2  .32   Celery workers (wk2 also runs beat, the one scheduler of periodic jobs)
#   lb    .5   nginx (deploy/nginx.conf rendered with both web hosts): spreads HTTP and WebSocket
#              connections, caps bodies, times out slow clients
#   this machine's own namespace holds .1 (and .101-.108, the live clients' addresses) on the bridge.
# Media are shared through Django's storage API: here a folder every host mounts (the same file
# system); on real hosts FER_STORAGE_BACKEND names object storage (see docs/deployment.md).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
source scripts/lib.sh

NET=${FER_CLUSTER_NET:-10.231.7}
PFX=${FER_CLUSTER_PREFIX:-fercl}
STATE=${FER_CLUSTER_DIR:-$ROOT/var/cluster}
BRIDGE=${PFX}br0
HOSTS="data:10 web1:21 web2:22 wk1:31 wk2:32 lb:5"
CLIENT_ADDRS=$(seq 101 108)
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
PY=$ROOT/.venv/bin/python

ns() { echo "$PFX-$1"; }
addr() { local h; for h in $HOSTS; do [ "${h%%:*}" = "$1" ] && echo "$NET.${h##*:}"; done; }
in_host() { local host=$1; shift; ip netns exec "$(ns "$host")" "$@"; }

site_env() {
  # Every Django process of the cluster: one database, one Redis, one media folder, one secret key.
  local host=$1
  echo "DATABASE_URL=postgres://postgres@$(addr data):5432/fer REDIS_URL=redis://$(addr data):6379/0" \
       "MEDIA_ROOT=$STATE/media FER_UPLOAD_TEMP_DIR=$STATE/tmp-$host FER_SERVER_NAME=$host" \
       "DJANGO_SECRET_KEY=$(cat "$STATE/secret_key") DJANGO_ALLOWED_HOSTS=$(addr lb),$(addr web1),$(addr web2)" \
       "FER_METRICS_NETWORKS=$NET.0/24 FER_JOB_HEARTBEAT_SECONDS=${FER_JOB_HEARTBEAT_SECONDS:-15}" \
       "FER_JOB_WATCH_SECONDS=${FER_JOB_WATCH_SECONDS:-5} FER_UPLOADS_PER_USER=${FER_UPLOADS_PER_USER:-30}" \
       "PYTHONUNBUFFERED=1"
}

# run_in HOST LOGNAME COMMAND...: start a long-running process in a host, in the background.
run_in() {
  local host=$1 name=$2; shift 2
  # shellcheck disable=SC2046
  in_host "$host" env $(site_env "$host") "$@" >"$STATE/logs/$name.log" 2>&1 &
}

wait_tcp() {
  local host=$1 port=$2 what=$3
  for _ in $(seq 300); do
    if "$PY" -c "import socket,sys; socket.create_connection(('$host', $port), timeout=0.5)" 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  echo "cluster: $what did not listen on $host:$port; its log is in $STATE/logs/" >&2
  return 1
}

kill_host() {
  # Every process of the host at once, as if its machine lost power.
  local pids
  pids=$(ip netns pids "$(ns "$1")" 2>/dev/null || true)
  [ -n "$pids" ] && kill -KILL $pids 2>/dev/null || true
}

stop() {
  local h
  for h in $HOSTS; do kill_host "${h%%:*}"; done
  sleep 0.3
  for h in $HOSTS; do ip netns del "$(ns "${h%%:*}")" 2>/dev/null || true; done
  ip link del "$BRIDGE" 2>/dev/null || true
}

network() {
  ip link add "$BRIDGE" type bridge
  ip addr add "$NET.1/24" dev "$BRIDGE"
  for a in $CLIENT_ADDRS; do ip addr add "$NET.$a/24" dev "$BRIDGE"; done
  ip link set "$BRIDGE" up
  local h name n
  for h in $HOSTS; do
    name=${h%%:*}; n=${h##*:}
    ip netns add "$(ns "$name")"
    ip link add "$PFX-$name-h" type veth peer name "$PFX-$name-n"
    ip link set "$PFX-$name-h" master "$BRIDGE" up
    ip link set "$PFX-$name-n" netns "$(ns "$name")"
    in_host "$name" ip addr add "$NET.$n/24" dev "$PFX-$name-n"
    in_host "$name" ip link set "$PFX-$name-n" up
    in_host "$name" ip link set lo up
  done
  # A bridge whose frames pass through iptables (br_netfilter, with Docker's FORWARD policy DROP) would
  # drop the hosts' traffic to each other: let this bridge's frames through.
  if [ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] && command -v iptables >/dev/null 2>&1; then
    iptables -C FORWARD -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT 2>/dev/null \
      || iptables -I FORWARD -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT
  fi
}

data_host() {
  local pg=$STATE/pg
  mkdir -p "$pg" && chown postgres: "$pg" && chmod 700 "$pg"
  runuser -u postgres -- "$PG_BIN/initdb" -D "$pg" -A trust -U postgres >"$STATE/logs/initdb.log"
  echo "host all all $NET.0/24 trust" >>"$pg/pg_hba.conf"
  in_host data runuser -u postgres -- "$PG_BIN/postgres" -D "$pg" -h "$(addr data)" -p 5432 -k "$pg" \
    >"$STATE/logs/postgres.log" 2>&1 &
  in_host data redis-server --bind "$(addr data)" --port 6379 --protected-mode no --save "" --appendonly no \
    --dir "$STATE" >"$STATE/logs/redis.log" 2>&1 &
  wait_tcp "$(addr data)" 5432 PostgreSQL
  wait_tcp "$(addr data)" 6379 Redis
  in_host data runuser -u postgres -- "$PG_BIN/createdb" -h "$(addr data)" -U postgres fer
}

start_worker() {
  # One process per worker host here (2 cores in all); on real hosts -c is that host's core count.
  run_in "$1" "$1" "$PY" -m celery -A fersite worker -c 1 -n "$1@%h" -l INFO
}

start_web() {
  run_in "$1" "$1" "$PY" -m daphne -b "$(addr "$1")" -p 8000 --proxy-headers fersite.asgi:application
}

start() {
  [ "$(id -u)" = 0 ] || { echo "cluster: needs root (network namespaces); run it as root" >&2; exit 1; }
  fer_ensure_tools ip postgres redis-server nginx || exit 1
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  [ -x "$PY" ] || scripts/setup.sh
  stop
  rm -rf "$STATE" && mkdir -p "$STATE/logs" "$STATE/media" "$STATE/lb"
  chmod 755 "$STATE"
  "$PY" -c "import secrets; print(secrets.token_urlsafe(48))" >"$STATE/secret_key"
  network
  data_host
  # shellcheck disable=SC2046
  in_host web1 env $(site_env web1) "$PY" manage.py migrate --noinput >"$STATE/logs/migrate.log"
  start_web web1
  start_web web2
  start_worker wk1
  start_worker wk2
  run_in wk2 beat "$PY" -m celery -A fersite beat -s "$STATE/celerybeat-schedule" -l INFO
  "$PY" deploy/render_nginx.py --upstream "$(addr web1):8000" --upstream "$(addr web2):8000" \
    --listen "$(addr lb):80" --out "$STATE/lb/nginx.conf"
  in_host lb "$(command -v nginx || echo /usr/sbin/nginx)" -p "$STATE/lb" -c "$STATE/lb/nginx.conf" -e stderr \
    -g "daemon off;" >"$STATE/logs/lb.log" 2>&1 &
  wait_tcp "$(addr web1)" 8000 "daphne on web1"
  wait_tcp "$(addr web2)" 8000 "daphne on web2"
  wait_tcp "$(addr lb)" 80 "the balancer"
  echo "cluster: up; the site is at http://$(addr lb)/ ; logs in $STATE/logs/" >&2
}

case "${1:-}" in
  start) trap 'echo "cluster: start failed; stopping what was started" >&2; stop' ERR
         start ;;
  stop) stop; echo "cluster: stopped" >&2 ;;
  check)
    trap stop EXIT
    # The check's one client uploads 60 clips within a few minutes, as several users would: its
    # throughput figures must not wait on one user's upload window (30 files a minute by default,
    # tested in tests/research/test_fair_shares.py); it still waits out any 429 it gets.
    export FER_UPLOADS_PER_USER=${FER_UPLOADS_PER_USER:-1000}
    start
    # Helpers for the check (restart a killed host's processes) are this script's own sub-commands.
    FER_CLUSTER_NET=$NET FER_CLUSTER_PREFIX=$PFX FER_CLUSTER_DIR=$STATE \
      "$PY" benchmarks/cluster_check.py --net "$NET" --prefix "$PFX" --state "$STATE" ;;
  restart-worker) start_worker "$2" ;;
  kill-host) kill_host "$2" ;;
  *) echo "usage: scripts/cluster.sh start|check|stop" >&2; exit 2 ;;
esac
