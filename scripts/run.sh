#!/usr/bin/env bash
# Set up, then start the whole site on http://127.0.0.1:8000/ : migrations, a Celery worker, daphne.
#   FER_PORT=8000  FER_WORKERS=1 (Celery processes; one per core you give to uploads)
#   DATABASE_URL=postgres://user@host:5432/name (default: SQLite in var/)  REDIS_URL=redis://127.0.0.1:6379/0
#   (when no Redis answers there, one of our own is started from Debian's redis-server, data in var/redis)
#   DEBUG is off (DJANGO_DEBUG=1 for development); the secret key is DJANGO_SECRET_KEY, or one made once and
#   kept in var/secret_key. FER_BEHIND_TLS_PROXY=1: behind the HTTPS proxy of deploy/ (daphne then takes
#   the client's address and scheme from X-Forwarded-For/-Proto: only the proxy may reach FER_HOST:FER_PORT).
# Stop with Ctrl-C: the worker finishes its current job first, or hands it back to the queue.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/lib.sh
mkdir -p var/log
PY=.venv/bin/python
fer_ensure_redis || exit 1
$PY manage.py migrate --noinput
# -B: this worker also runs the periodic jobs (the retention purge); with several workers on several
# hosts exactly one runs `celery -A fersite beat` instead (scripts/cluster.sh shows it).
$PY -m celery -A fersite worker -B -s var/celerybeat-schedule -c "${FER_WORKERS:-1}" -l INFO \
  --logfile var/log/celery.log &
worker=$!
trap 'kill -TERM $worker 2>/dev/null; wait $worker 2>/dev/null; fer_stop_own_redis' EXIT INT TERM
echo "worker log: var/log/celery.log · site: http://127.0.0.1:${FER_PORT:-8000}/ (create a user: $PY manage.py createsuperuser)"
proxy=()
case "${FER_BEHIND_TLS_PROXY:-0}" in 1|true|yes|on) proxy=(--proxy-headers) ;; esac
$PY -m daphne -b "${FER_HOST:-127.0.0.1}" -p "${FER_PORT:-8000}" "${proxy[@]}" fersite.asgi:application
