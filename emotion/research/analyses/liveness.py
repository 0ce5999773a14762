"""A job whose whole worker was killed is queued again within about a minute, not 40 minutes later.

Why it would wait: jobs are acknowledged late. When only the pool process running a job dies, the
worker's main process rejects the job back to the queue at once (reject_on_worker_lost). When the
whole worker dies (SIGKILL, the OOM killer, its machine), nobody does: Redis hands the job out again
only after its visibility timeout (CELERY_BROKER_TRANSPORT_OPTIONS, 40 min). That timeout has to stay
above the job's hard time limit (30 min), or a slow job would be handed to a second worker while the
first is still on it; shortening both would cap how long a video may take. So instead:

- while a job runs, its process keeps a key alive in Redis (refreshed every third of
  FER_JOB_HEARTBEAT_SECONDS, expiring after it): "this run is being worked on";
- every worker, when it starts and then every FER_JOB_WATCH_SECONDS, looks for analyses marked
  running for longer than that whose key has expired, marks them queued again and sends their run
  (the conditional update in the database decides which worker does it, once). The killed delivery
  counted as an attempt, so a file that kills whole workers is given up after three, like one that
  kills pool processes;
- a delivery of a run that a live key shows another process is working on skips it: the lost
  message coming back after 40 minutes, or a requeue that raced a heartbeat. Skipping is safe: if
  that other process dies after all, its key expires and the watch queues the run again.

`python manage.py requeue_stuck` stays for what this cannot see: Redis losing its queue (analyses
left "queued" with no message).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import timedelta
from typing import Iterator, Optional

from django.conf import settings

log = logging.getLogger(__name__)
_redis = None
_watch: Optional[threading.Thread] = None


def ttl() -> int:
    return max(3, int(getattr(settings, "FER_JOB_HEARTBEAT_SECONDS", 60)))


def _client():
    global _redis
    if _redis is None:
        import redis

        _redis = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=2, socket_timeout=5)
    return _redis


def _key(analysis_id: int) -> str:
    from fersite.celery import app

    return f"{app.conf.task_default_queue}:running:{analysis_id}"


def _holder_alive(value: str) -> bool:
    """Whether the process named in a key's value may still be working: only one on this very
    machine can be checked; anywhere else, the key's expiry says."""
    try:
        _run, host, pid, _token = value.split("|")
    except ValueError:
        return True
    if host != socket.gethostname():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError):
        return True
    try:                                         # killed, not yet reaped by its parent: dead too
        return open(f"/proc/{int(pid)}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


@contextmanager
def holding(analysis_id: int, run_id: str) -> Iterator[bool]:
    """Keeps the run's key alive while the block runs. Yields False, and keeps nothing, when another
    live process holds the same run: the caller then skips it."""
    import redis

    key = _key(analysis_id)
    me = f"{run_id}|{socket.gethostname()}|{os.getpid()}|{uuid.uuid4().hex[:8]}"
    r = _client()
    try:
        if not r.set(key, me, nx=True, ex=ttl()):
            held = (r.get(key) or b"").decode()
            if held.split("|")[0] == str(run_id) and _holder_alive(held):
                yield False
                return
            r.set(key, me, ex=ttl())           # an older run's, or a dead process's on this machine
    except redis.exceptions.RedisError:          # cannot tell: working beats waiting
        log.warning("job heartbeat: Redis unreachable; analysis %s runs without one", analysis_id)
    stop = threading.Event()

    def beat():
        while not stop.wait(ttl() / 3):
            try:
                if (r.get(key) or me.encode()).decode() != me:
                    return                       # a newer run took over: it keeps the key now
                r.set(key, me, ex=ttl())
            except redis.exceptions.RedisError:
                pass

    thread = threading.Thread(target=beat, name=f"fer-heartbeat-{analysis_id}", daemon=True)
    thread.start()
    try:
        yield True
    finally:
        stop.set()
        thread.join(2)
        try:
            if (r.get(key) or b"").decode() == me:
                r.delete(key)
        except redis.exceptions.RedisError:
            pass


def requeue_orphans(send) -> int:
    """Queue again the runs marked running whose process stopped beating, with ``send(pk, run_id)``
    (the job's sender, handed in by tasks.py so this module does not import it back). Returns how many."""
    import redis
    from django.db import close_old_connections
    from django.utils import timezone

    from . import lifecycle

    close_old_connections()
    before = timezone.now() - timedelta(seconds=ttl())
    count = 0
    try:
        r = _client()
        for pk, run_id in lifecycle.running_since(before):
            if not r.exists(_key(pk)) and lifecycle.requeue_if_running(pk, run_id, send):
                count += 1
                log.warning("analysis %s: its worker stopped beating; queued again", pk)
    except redis.exceptions.RedisError as exc:
        log.warning("job watch: Redis unreachable (%s); trying again later", exc)
    except Exception:                            # noqa: BLE001 - the watch must outlive one bad round
        log.exception("job watch failed")
    finally:
        close_old_connections()
    return count


def start_watch(send) -> None:
    """On a worker's start (tasks.py, on Celery's worker_ready): one round now, then every
    FER_JOB_WATCH_SECONDS; ``send`` queues a job again."""
    global _watch
    if _watch is not None:
        return
    every = float(getattr(settings, "FER_JOB_WATCH_SECONDS", 30))

    def loop():
        while True:
            requeue_orphans(send)
            time.sleep(every)

    _watch = threading.Thread(target=loop, name="fer-job-watch", daemon=True)
    _watch.start()
