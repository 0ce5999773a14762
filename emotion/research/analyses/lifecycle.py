"""An analysis's life in one place: queued, running, then done or failed, and queued again.

Every change of an analysis's status is made here, by a conditional update or under a row lock, so two
deliveries of one job, a re-run and a deletion can race without leaving a wrong state:

- queue: ``require_queue`` before anything is stored, ``new_run`` for a re-run, ``send_on_commit``
  once the row is committed (``undo`` if sending fails even so);
- claim: ``claim`` marks a delivery's run running, or says why there is nothing to do (deleted,
  superseded, already finished, given up after MAX_ATTEMPTS deliveries);
- progress: ``advance`` stores the fraction done and notices a deletion or re-run (Superseded);
- finish: ``settle`` decides done or failed from what the job read; ``fail`` ends a run with a reason;
- requeue: ``requeue_if_running`` (a run whose whole worker died, found by liveness.py) and
  ``lost_runs`` (what the broker lost, for ``manage.py requeue_stuck``).

Celery's own mechanisms carry what they can: late acknowledgement with reject_on_worker_lost puts a
job back when its pool process dies, and the broker's visibility timeout hands out a job whose
acknowledgement never came. What they cannot do (see liveness.py): notice quickly that a whole worker
died, while the visibility timeout must stay above the longest job.

Jobs are sent by tasks.send, the one caller of the Celery task; this module sits below tasks.py (the
task runs runner.py, which calls this), so a sender is handed in where one is needed.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Callable, Union

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from ..models import Analysis
from . import progress

log = logging.getLogger(__name__)
# A file that kills the worker every time (a decoder crash) must not be retried for ever.
MAX_ATTEMPTS = 3
QUEUE_UNAVAILABLE = "The job queue is unavailable; try again in a minute."
Send = Callable[[int, str], object]


class QueueUnavailable(Exception):
    """The broker (Redis) cannot be reached, so no job can be queued. Nothing was stored: the page and
    the API answer 503 with this message."""

    def __init__(self, message: str = QUEUE_UNAVAILABLE):
        super().__init__(message)


class Superseded(Exception):
    """The analysis was deleted or re-run while this job was on it: its work is no longer wanted."""


# --- queue -------------------------------------------------------------------------------------------------

def require_queue() -> None:
    """QueueUnavailable unless the broker answers now: checked before anything is stored, so an upload
    made while Redis is down costs neither a row nor a file. A fresh connection, not a pooled one: a
    pooled connection says it is connected after the server behind it has gone."""
    from fersite.celery import app

    try:
        with app.connection_for_write(connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=0)
    except Exception as exc:                # noqa: BLE001 - any failure to reach it means the same
        log.warning("the job queue is unreachable: %s", exc)
        raise QueueUnavailable() from exc


def new_run(analysis: Analysis) -> None:
    """A fresh run of the analysis, queued now (call inside a transaction holding its row): a new token,
    so a delivery of the old run finds it changed and stops."""
    analysis.run_id = uuid.uuid4()
    analysis.status, analysis.progress, analysis.attempts = Analysis.Status.QUEUED, 0.0, 0
    analysis.error, analysis.notice = "", ""
    analysis.started_at = analysis.finished_at = None
    analysis.queued_at = timezone.now()


def send_on_commit(analysis: Analysis, send: Send, undo: Callable[[], object]) -> None:
    """Send the analysis' job once the row is committed (a worker that picks it up at once must find
    it). If sending fails even so (the broker went away after require_queue), ``undo`` puts things
    right and QueueUnavailable is raised out of the commit."""
    pk, run_id = analysis.pk, str(analysis.run_id)

    def sending():
        try:
            send(pk, run_id)
        except Exception as exc:            # noqa: BLE001 - kombu's OperationalError, or a socket error
            log.warning("could not queue analysis %s: %s", pk, exc)
            undo()
            raise QueueUnavailable() from exc

    transaction.on_commit(sending)


# --- claim, progress, finish -------------------------------------------------------------------------------

def claim(analysis_id: int, run_id: str) -> Union[Analysis, str]:
    """Mark the analysis running for this delivery, or say why there is nothing to do."""
    with transaction.atomic():
        analysis = Analysis.objects.select_for_update().filter(pk=analysis_id).first()
        if analysis is None:
            return "skipped: the analysis was deleted"
        if str(analysis.run_id) != str(run_id):
            return "skipped: superseded by a newer run"
        if analysis.finished:
            return "skipped: this run already finished (a repeated delivery)"
        if analysis.attempts >= MAX_ATTEMPTS:
            analysis.status, analysis.finished_at = Analysis.Status.FAILED, timezone.now()
            analysis.error = (f"The worker stopped {analysis.attempts} times while analysing this file, "
                              "so it was given up. The file may be damaged in a way the decoder cannot handle.")
            analysis.save(update_fields=["status", "finished_at", "error"])
            progress.push(analysis)
            return "failed: too many attempts"
        analysis.status, analysis.progress = Analysis.Status.RUNNING, 0.0
        analysis.started_at = timezone.now()
        analysis.attempts = F("attempts") + 1
        analysis.save(update_fields=["status", "progress", "started_at", "attempts"])
    analysis.refresh_from_db()
    progress.push(analysis)
    return analysis


def advance(analysis: Analysis, fraction: float) -> None:
    """Store how far the run has got and tell the pages; Superseded if it was deleted or re-run."""
    analysis.progress = min(0.99, fraction)
    if not Analysis.objects.filter(pk=analysis.pk, run_id=analysis.run_id).update(progress=analysis.progress):
        raise Superseded("deleted or re-run during the analysis")
    progress.push(analysis)


def current_run(analysis: Analysis) -> Analysis:
    """The analysis' row, locked, if this run is still the wanted one (inside a transaction)."""
    current = Analysis.objects.select_for_update().filter(pk=analysis.pk, run_id=analysis.run_id).first()
    if current is None:
        raise Superseded("deleted or re-run before its results were saved")
    return current


def settle(current: Analysis, results: int, truncated) -> None:
    """Done, or failed with the frames read kept when the video stopped early (set on the locked row
    that current_run gave; the caller saves it with the results)."""
    current.progress, current.finished_at = 1.0, timezone.now()
    current.notice = "" if results else f"No faces were found in this {current.kind}."
    if truncated is not None:
        current.status = Analysis.Status.FAILED
        current.error = (f"The video is truncated or damaged: decoding stopped at frame {truncated.frames_read} "
                         f"of {current.frame_count}. The results of the frames before that are kept.")
    else:
        current.status, current.error = Analysis.Status.DONE, ""


def fail(analysis: Analysis, message: str) -> None:
    """End this run as failed, saying why, unless it was re-run or deleted meanwhile."""
    updated = Analysis.objects.filter(pk=analysis.pk, run_id=analysis.run_id).update(
        status=Analysis.Status.FAILED, error=message, finished_at=timezone.now())
    if updated:
        analysis.refresh_from_db()
        progress.push(analysis)


# --- requeue -----------------------------------------------------------------------------------------------

def requeue_if_running(analysis_id: int, run_id: str, send: Send) -> bool:
    """Queue the run again if it is still marked running (its worker stopped beating): the conditional
    update decides which of several watching workers sends it, once."""
    if Analysis.objects.filter(pk=analysis_id, run_id=run_id, status=Analysis.Status.RUNNING).update(
            status=Analysis.Status.QUEUED, queued_at=timezone.now(), progress=0.0):
        send(analysis_id, str(run_id))
        return True
    return False


def running_since(before: datetime) -> list:
    """(pk, run_id) of the runs marked running since before ``before``."""
    return list(Analysis.objects.filter(status=Analysis.Status.RUNNING, started_at__lt=before)
                .values_list("pk", "run_id"))


def lost_runs(before: datetime) -> QuerySet:
    """Runs queued or running since before ``before``, with no job left for them if the broker lost
    its queue. Sending one again is harmless: a finished run is skipped, results are replaced."""
    return Analysis.objects.filter(Q(status=Analysis.Status.QUEUED, queued_at__lt=before) |
                                   Q(status=Analysis.Status.RUNNING, started_at__lt=before))
