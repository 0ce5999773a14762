"""Fair shares of the site's work between users (issue 18, finding 3).

Four bounds, checked before a file is stored, and one ordering of the job queue:

- probes at once in one web process (FER_PROBES_PER_PROCESS): each probe is a process of its own that
  may map up to FER_PROBE_MEMORY_MB, so six uploads at once meant six of them. An upload waits up to
  FER_PROBE_WAIT_SECONDS for its turn, then is answered 503 (the server, not the user, is busy);
- probes in flight per user, across every web process (FER_PROBES_PER_USER): a lease per probe in a
  Redis sorted set. A lease whose process died mid-probe is dropped once it is older than a probe
  can take, so a crash never locks a user out for good;
- analyses queued or running per user (FER_JOBS_PER_USER), counted in the database, the truth about
  jobs: 429 past it, "upload more when one finishes";
- files uploaded per user in a window (FER_UPLOADS_PER_USER per FER_UPLOAD_WINDOW_SECONDS), one
  count shared by the pages and the API, counted per file because the probe is the cost;
- the queue: each job is sent with a Celery priority equal to the number of its owner's other
  analyses queued or running (0 first, capped at FER_FAIR_LEVELS - 1). Redis keeps one list per
  level and a worker always takes from the lowest non-empty one, so one user's first job goes before
  another user's second, and so on: users take turns, and a photo sent behind someone's 20 videos
  waits for the video being analysed, not for all of them. Why priorities and not a dispatcher of
  our own: the message stays an ordinary Celery message, so the acknowledgement, redelivery and
  requeue machinery (acks_late, reject_on_worker_lost, liveness.py) keeps working unchanged, and no
  second place holds jobs that could be lost. The cost: the order is decided when a job is sent,
  not re-decided later, and past FER_FAIR_LEVELS jobs a user's further jobs share the last level
  first in, first out.

Nothing here decides who the user is: the callers pass the account the job is charged to.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from contextlib import contextmanager
from typing import Iterator, Optional

from django.conf import settings

log = logging.getLogger(__name__)
ACTIVE = ("queued", "running")


class Busy(Exception):
    """Not now: ``status`` 429 (this user's share is used up) or 503 (the server is busy), with the
    seconds after which to try again. Nothing was stored."""

    def __init__(self, message: str, retry_after: int, status: int = 429):
        super().__init__(message)
        self.retry_after, self.status = max(1, int(retry_after)), status


def _wait_words(seconds: int) -> str:
    return f"{seconds} s" if seconds < 90 else f"{math.ceil(seconds / 60)} min"


def user_key(user) -> str:
    """Whom the Redis counts are kept for: the account's id and creation time, so that an id that
    SQLite hands out again after a deletion does not inherit the old account's counts."""
    joined = getattr(user, "date_joined", None)
    return f"{user.pk}-{int(joined.timestamp() * 1e6) if joined else 0}"


# --- jobs queued or running --------------------------------------------------------------------------
def active_jobs(user) -> int:
    from ..models import Analysis

    return Analysis.objects.filter(owner=user, status__in=ACTIVE).count()


def check_jobs(user, more: int = 1) -> None:
    """Busy (429) unless ``user`` may have ``more`` further analyses queued or running. Concurrent
    uploads of one user can overshoot by at most FER_PROBES_PER_USER - 1, since each must hold a probe
    lease between this check and its commit."""
    limit, now = settings.FER_JOBS_PER_USER, active_jobs(user)
    if now + more > limit:
        wanted = f"{more} more would make {now + more}" if more > 1 else "that is the most one user may have"
        raise Busy(f"You have {now} analyses queued or running; {wanted} (the limit is {limit}). Upload more "
                   f"when some of them finish: try again in a minute, or watch their status in the list.",
                   retry_after=60)


# --- files per window --------------------------------------------------------------------------------
def _window():
    from emotion.web.throttle import Window

    return Window("uploads", lambda: settings.FER_UPLOADS_PER_USER, lambda: settings.FER_UPLOAD_WINDOW_SECONDS)


def count_uploads(user, files: int) -> None:
    """Count ``files`` uploads of ``user`` against the window, or Busy (429) with the wait when the
    window has no room for all of them (then none is counted)."""
    window, ident = _window(), user_key(user)
    wait = window.wait(ident, files)
    if wait:
        room = max(0, window.limit - window.count(ident))
        left = f"only {room} more fit" if room else "none fits"
        raise Busy(f"You may upload {window.limit} files every {_wait_words(int(window.seconds))}; {left} now. "
                   f"Try again in {_wait_words(wait)}.", retry_after=wait)
    window.hit(ident, files)


# --- probes ------------------------------------------------------------------------------------------
_process_turns: tuple = (0, None)             # (size, its semaphore)
_turns_lock = threading.Lock()


def _turns() -> threading.BoundedSemaphore:
    """The process' semaphore, made again if the setting changed (a test overriding it; the site's
    settings do not change while it runs)."""
    global _process_turns
    size = max(1, int(settings.FER_PROBES_PER_PROCESS))
    with _turns_lock:
        if _process_turns[0] != size:
            _process_turns = (size, threading.BoundedSemaphore(size))
        return _process_turns[1]


@contextmanager
def probe_turn() -> Iterator[None]:
    """One of this process' FER_PROBES_PER_PROCESS probe turns, waited for up to FER_PROBE_WAIT_SECONDS;
    Busy (503) when none came free in that time."""
    turns = _turns()
    if not turns.acquire(timeout=max(0.0, float(settings.FER_PROBE_WAIT_SECONDS))):
        raise Busy("The server is checking other uploads right now. Try again in 10 s.",
                   retry_after=10, status=503)
    try:
        yield
    finally:
        turns.release()


_redis = None


def _client():
    global _redis
    if _redis is None:
        import redis

        _redis = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=2, socket_timeout=5)
    return _redis


def _leases_key(user) -> str:
    from fersite.celery import app

    return f"{app.conf.task_default_queue}:probes:{user_key(user)}"


def lease_seconds() -> float:
    """The longest a probe lease can legitimately last: waiting for a turn, then the probe's own limit."""
    return float(settings.FER_PROBE_WAIT_SECONDS) + float(settings.FER_PROBE_SECONDS) + 30


@contextmanager
def user_probe(user) -> Iterator[None]:
    """One of ``user``'s FER_PROBES_PER_USER probe leases; Busy (429) when all are taken. When Redis
    cannot be reached the upload goes on: the per-process bound still holds, and the upload itself
    will be answered 503 by the queue check anyway."""
    import redis

    key, token, now = _leases_key(user), uuid.uuid4().hex, time.time()
    try:
        pipe = _client().pipeline(transaction=True)
        pipe.zremrangebyscore(key, "-inf", now - lease_seconds())     # left by a process that died
        pipe.zadd(key, {token: now})
        pipe.zcard(key)
        pipe.expire(key, math.ceil(lease_seconds()))
        held = pipe.execute()[2]
    except redis.exceptions.RedisError as exc:
        log.warning("probe leases: Redis unreachable (%s); only the per-process bound applies", exc)
        held = 0
    try:
        if held > settings.FER_PROBES_PER_USER:
            raise Busy(f"{settings.FER_PROBES_PER_USER} of your uploads are being checked already; send this one "
                       "when they are done. Try again in 5 s.", retry_after=5)
        yield
    finally:
        try:
            _client().zrem(key, token)
        except redis.exceptions.RedisError:
            pass                           # it expires with lease_seconds()


# --- the queue's order -------------------------------------------------------------------------------
def priority_for(analysis_id: int) -> Optional[int]:
    """The Celery priority of a job: how many other analyses of its owner are queued or running (0 is
    taken first), capped at FER_FAIR_LEVELS - 1. None (Celery's default, the first level) when fair
    ordering is off or the analysis is gone."""
    from ..models import Analysis

    if not settings.FER_FAIR_QUEUE:
        return None
    owner = Analysis.objects.filter(pk=analysis_id).values_list("owner_id", flat=True).first()
    if owner is None:
        return None
    ahead = Analysis.objects.filter(owner_id=owner, status__in=ACTIVE).exclude(pk=analysis_id).count()
    return min(ahead, max(1, settings.FER_FAIR_LEVELS) - 1)


def queue_keys(queue: str) -> list:
    """The Redis lists that hold a queue's waiting jobs, one per priority level (kombu's naming)."""
    return [queue] + [f"{queue}\x06\x16{level}" for level in range(1, max(1, settings.FER_FAIR_LEVELS))]
