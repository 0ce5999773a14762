#!/usr/bin/env bash
# Idempotent set-up on a fresh machine: a virtual environment in .venv with the pinned packages, and
# the front-end libraries (Chart.js) in node_modules from package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
# System packages from Debian: chromium (browser tests), ffmpeg (the tests convert the shared clip),
# nginx (the reverse proxy of deploy/, started by tests/test_proxy.py). Installed when missing and root.
missing=()
for pkg in chromium ffmpeg nginx; do
  command -v "$pkg" >/dev/null 2>&1 || [ -x "/usr/sbin/$pkg" ] || [ -x "/usr/bin/$pkg" ] || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; }; then
      echo "setup: could not install ${missing[*]} with apt-get; the tests that need them will say so" >&2
    fi
  else
    echo "setup: missing system packages; as root run: apt-get update && apt-get install -y ${missing[*]}" >&2
  fi
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
