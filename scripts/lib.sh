# Shared by scripts/*.sh (sourced, never run): system packages and a Redis of our own.
# Everything here prints one line saying what it did or what to do, never a traceback.

# Debian package that provides each tool the project runs.
fer_package_of() {
  case "$1" in
    chromium) echo chromium ;;
    ffmpeg) echo ffmpeg ;;
    nginx) echo nginx ;;
    redis-server) echo redis-server ;;
    postgres) echo postgresql ;;
    ip) echo iproute2 ;;
    *) echo "$1" ;;
  esac
}

fer_has_tool() {
  case "$1" in
    postgres) compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null ;;
    *) local p
       for p in "$(command -v "$1" 2>/dev/null)" "/usr/sbin/$1" "/usr/bin/$1"; do
         # a regular executable file: bash's `command -v` also names a file it could not run
         [ -n "$p" ] && [ -f "$p" ] && [ -x "$p" ] && return 0
       done
       return 1 ;;
  esac
}

# fer_ensure_tools TOOL...: installs the missing ones through apt-get when root; otherwise, or when
# that fails, prints the exact command and returns 1.
fer_ensure_tools() {
  local missing=() tool
  for tool in "$@"; do fer_has_tool "$tool" || missing+=("$(fer_package_of "$tool")"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && [ -z "${FER_NO_APT:-}" ]; then
    echo "setup: installing ${missing[*]} with apt-get" >&2
    if { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; }; then
      return 0
    fi
    echo "setup: apt-get could not install ${missing[*]}" >&2
  fi
  echo "setup: missing system packages; as root run: apt-get update && apt-get install -y ${missing[*]}" >&2
  return 1
}

fer_redis_url() { echo "${REDIS_URL:-redis://127.0.0.1:6379/0}"; }

fer_redis_answers() {
  .venv/bin/python - "$(fer_redis_url)" <<'PY' 2>/dev/null
import sys
import redis
try:
    redis.Redis.from_url(sys.argv[1], socket_connect_timeout=1, socket_timeout=2).ping()
except Exception:
    sys.exit(1)
PY
}

# fer_ensure_redis: nothing when a Redis answers at REDIS_URL. Otherwise, when REDIS_URL names this
# machine, starts Debian's redis-server on its port with its data under var/redis (and says so), and
# sets FER_OWN_REDIS_PID so the caller can stop it. A Redis elsewhere that does not answer is an error.
fer_ensure_redis() {
  local url host port
  fer_redis_answers && return 0
  url=$(fer_redis_url)
  read -r host port < <(.venv/bin/python -c "import sys; from urllib.parse import urlparse; u = urlparse(sys.argv[1]); print(u.hostname or '-', u.port or 6379)" "$url")
  case "$host" in
    127.0.0.1|localhost|::1) ;;
    *) echo "redis: nothing answers at $url; start that Redis, or unset REDIS_URL to use one of this machine" >&2
       return 1 ;;
  esac
  fer_ensure_tools redis-server || return 1
  mkdir -p var/redis var/log
  local server
  server=$(command -v redis-server || echo /usr/bin/redis-server)
  "$server" --bind 127.0.0.1 --port "$port" --dir "$PWD/var/redis" --daemonize yes \
    --pidfile "$PWD/var/redis/redis.pid" --logfile "$PWD/var/log/redis.log" --save 60 1 >/dev/null
  for _ in $(seq 50); do fer_redis_answers && break; sleep 0.1; done
  if ! fer_redis_answers; then
    echo "redis: started redis-server on port $port but it does not answer; see var/log/redis.log" >&2
    return 1
  fi
  FER_OWN_REDIS_PID=$(cat var/redis/redis.pid)
  echo "redis: none answered at $url, so started our own (pid $FER_OWN_REDIS_PID, data in var/redis, log var/log/redis.log)" >&2
}

fer_stop_own_redis() {
  if [ -n "${FER_OWN_REDIS_PID:-}" ]; then kill -TERM "$FER_OWN_REDIS_PID" 2>/dev/null || true; fi
}
