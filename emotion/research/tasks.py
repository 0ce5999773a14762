"""Celery tasks. acks_late with reject_on_worker_lost (settings) puts a job back on the queue when the
worker running it dies; run_analysis is idempotent, so the second delivery finishes the job once.
Every job is sent by ``send``, through FairTask, which gives it its owner's fair-share priority
(emotion/research/analyses/shares.py)."""

from __future__ import annotations

import logging
import os
import time

import torch
from celery import Task, shared_task
from celery.signals import worker_process_init, worker_ready

from emotion.runtime import get_engine
from emotion.web import metrics
from emotion.web.logcontext import about

from .analyses import liveness, shares
from .analyses.runner import run_analysis

log = logging.getLogger(__name__)


def send(analysis_id: int, run_id: str) -> None:
    """Queue one run of an analysis: the only place a job is sent (an upload, a re-run, and the requeues
    of liveness.py and requeue_stuck), with its owner's fair-share priority (FairTask)."""
    analyse.delay(analysis_id, run_id)


def _watch_jobs(**_) -> None:
    """A job whose whole worker was killed is queued again by the other workers' watch (liveness.py)."""
    liveness.start_watch(send=send)


worker_ready.connect(_watch_jobs, dispatch_uid="fer-job-watch")


@worker_process_init.connect
def _load_model(**_):
    # One engine per worker process, loaded before the first job; each process runs one job at a time,
    # so it takes FER_TORCH_THREADS cores (default 1: one worker process per core scales best).
    torch.set_num_threads(int(os.environ.get("FER_TORCH_THREADS", 1)))
    get_engine()


class FairTask(Task):
    """Sends each job with its owner's fair-share priority, whoever sends it, so the callers keep
    calling ``delay`` and no path can skip the turns. A redelivered message keeps the priority it
    was sent with (kombu restores it to its level's list)."""

    def apply_async(self, args=None, kwargs=None, **options):
        if options.get("priority") is None and args:
            options["priority"] = shares.priority_for(args[0])
        return super().apply_async(args, kwargs, **options)


@shared_task(name="research.analyse", base=FairTask, acks_late=True, reject_on_worker_lost=True)
def analyse(analysis_id: int, run_id: str) -> str:
    with about(analysis=analysis_id), liveness.holding(analysis_id, run_id) as mine:
        if not mine:
            outcome = "skipped: another worker is on this run"
        else:
            started = time.monotonic()
            outcome = run_analysis(analysis_id, run_id)
            metrics.job_finished(outcome, time.monotonic() - started)
        # One line per delivery: which analysis, which run, what came of it (scripts/cluster.sh counts
        # the "done" lines to show each analysis was finished by one run).
        log.info("analysis %s run %s: %s", analysis_id, run_id, outcome)
        return outcome
