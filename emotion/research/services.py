"""Creating, re-running and deleting analyses: the one place the page, the API and the admin go through."""

from __future__ import annotations

import logging
import uuid
from typing import Optional

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from .models import Analysis
from .validation import UploadRefused, inspect_upload

log = logging.getLogger(__name__)
MAX_FRAME_STEP = 1000
QUEUE_UNAVAILABLE = "The job queue is unavailable; try again in a minute."


class QueueUnavailable(Exception):
    """The broker (Redis) cannot be reached, so no job can be queued. Nothing was stored: the page and
    the API answer 503 with this message."""

    def __init__(self, message: str = QUEUE_UNAVAILABLE):
        super().__init__(message)


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


def _enqueue(analysis: Analysis, undo) -> None:
    """Queue the analysis' job once the row is committed (a worker that picks it up at once must find
    it). If sending fails even so (the broker went away after require_queue), ``undo`` puts things
    right and QueueUnavailable is raised out of the commit."""
    from .tasks import analyse

    pk, run_id = analysis.pk, str(analysis.run_id)

    def send():
        try:
            analyse.delay(pk, run_id)
        except Exception as exc:            # noqa: BLE001 - kombu's OperationalError, or a socket error
            log.warning("could not queue analysis %s: %s", pk, exc)
            undo()
            raise QueueUnavailable() from exc

    transaction.on_commit(send)


def create_analysis(owner, upload: UploadedFile, title: str = "", notes: str = "",
                    frame_step: Optional[int] = None) -> Analysis:
    """Check the upload (UploadRefused says why not), store it under a generated name, queue the job.
    Checking and storing happen outside the transaction: on SQLite a transaction holds the write lock,
    and workers writing progress must not wait for a large file to be probed and copied.
    QueueUnavailable when the job cannot be queued: then neither the row nor the file is kept."""
    step = int(frame_step or 1)
    if not 1 <= step <= MAX_FRAME_STEP:
        raise UploadRefused(f"The frame step must be between 1 and {MAX_FRAME_STEP}.")
    require_queue()
    facts = inspect_upload(upload)
    analysis = Analysis(
        owner=owner, title=title.strip()[:200], notes=notes, kind=facts.kind, media_format=facts.media_format,
        original_name=(upload.name or "upload")[-255:], size_bytes=upload.size, frame_step=step,
        width=facts.width, height=facts.height, fps=facts.fps, frame_count=facts.frame_count, duration=facts.duration,
    )
    analysis.file.save(f"upload{facts.extension}", upload, save=False)

    def undo():                     # the row is committed by now: it goes, with its file
        Analysis.objects.filter(pk=analysis.pk).delete()

    try:                            # a failed insert (or send) must not leave the stored file behind
        with transaction.atomic():
            analysis.save()
            _enqueue(analysis, undo)
    except BaseException:
        default_storage.delete(analysis.file.name)
        raise
    return analysis


def rerun(analysis: Analysis) -> Analysis:
    """Analyse again with the current model. The old results stay until the new ones replace them.
    QueueUnavailable when the job cannot be queued: checked first, so the analysis is left as it was;
    if sending fails after the commit, it ends failed with a message saying to re-run it."""
    require_queue()

    def undo():
        Analysis.objects.filter(pk=analysis.pk, run_id=analysis.run_id).update(
            status=Analysis.Status.FAILED, finished_at=timezone.now(),
            error="The job could not be queued (the job queue was unavailable). Re-run it.")

    with transaction.atomic():
        analysis = Analysis.objects.select_for_update().get(pk=analysis.pk)
        analysis.run_id = uuid.uuid4()
        analysis.status, analysis.progress, analysis.attempts = Analysis.Status.QUEUED, 0.0, 0
        analysis.error, analysis.notice = "", ""
        analysis.started_at = analysis.finished_at = None
        analysis.queued_at = timezone.now()
        analysis.save()
        _enqueue(analysis, undo)
    return analysis


def delete_analysis(analysis: Analysis) -> None:
    """The row, its results and its files. Files go after the commit, so a rollback keeps them."""
    names = [n for n in (analysis.file.name, analysis.annotated.name) if n]
    with transaction.atomic():
        analysis.delete()
        transaction.on_commit(lambda: [default_storage.delete(n) for n in names])

