#!/usr/bin/env bash
# Set up, then run the whole test suite (extra arguments go to pytest). Installs what is missing (as
# root), or says in one line what to install; starts a Redis of its own when none answers at REDIS_URL.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/lib.sh
fer_ensure_tools chromium ffmpeg nginx || { echo "test: stopped before the tests: the browser, video and proxy tests need these" >&2; exit 1; }
fer_ensure_redis || exit 1
trap fer_stop_own_redis EXIT
.venv/bin/python -m pytest "$@"
