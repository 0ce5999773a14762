#!/usr/bin/env bash
# Idempotent set-up on a fresh machine: a virtual environment in .venv with the pinned packages, and
# the front-end libraries (Chart.js) in node_modules from package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
source scripts/lib.sh
# System packages from Debian: chromium (browser tests), ffmpeg (the tests convert the shared clip),
# nginx (the reverse proxy of deploy/ and the load balancer of scripts/cluster.sh). Installed when
# missing and root; otherwise the command is printed, and scripts/test.sh stops there.
fer_ensure_tools chromium ffmpeg nginx || true
if ! command -v "$PY" >/dev/null 2>&1; then
  echo "setup: $PY not found; install Python 3.11 (as root: apt-get install -y python3 python3-venv)" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.installed-$(cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r requirements-dev.txt
  rm -f .venv/.installed-* && touch "$stamp"
fi
npm_stamp=node_modules/.installed-$(sha1sum package-lock.json | cut -c1-12)
if [ ! -f "$npm_stamp" ]; then
  npm ci --no-audit --no-fund --loglevel=error
  touch "$npm_stamp"
fi
# The secret key, unless DJANGO_SECRET_KEY is given: made once, kept in var/secret_key (mode 600) and
# read by fersite/settings.py, so sessions survive restarts with DEBUG off.
if [ -z "${DJANGO_SECRET_KEY:-}" ]; then
  mkdir -p var
  if [ ! -s var/secret_key ]; then
    (umask 077 && .venv/bin/python -c "from django.core.management.utils import get_random_secret_key as k; print(k())" \
      > var/secret_key.tmp && mv var/secret_key.tmp var/secret_key)
  fi
  chmod 600 var/secret_key
fi
