#!/usr/bin/env bash
# Set up, then analyse a media file with the shipped model:
#   scripts/run.sh [PATH] [analyze options…]     (default PATH: the shared demo clip)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
path=${1:-../shared/media/short_hamilton_clip.mp4}
shift || true
exec .venv/bin/python manage.py analyze "$path" "$@"
