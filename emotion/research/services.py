"""Creating, re-running and deleting analyses: the one place the page, the API and the admin go through."""

from __future__ import annotations

import uuid
from typing import Optional

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from .models import Analysis
from .validation import UploadRefused, inspect_upload

MAX_FRAME_STEP = 1000


def _enqueue(analysis: Analysis) -> None:
    from .tasks import analyse

    run_id = str(analysis.run_id)
    # Only once the row is committed: a worker that picks the job up at once must find it.
    transaction.on_commit(lambda: analyse.delay(analysis.pk, run_id))


def create_analysis(owner, upload: UploadedFile, title: str = "", notes: str = "",
                    frame_step: Optional[int] = None) -> Analysis:
    """Check the upload (UploadRefused says why not), store it under a generated name, queue the job.
    Checking and storing happen outside the transaction: on SQLite a transaction holds the write lock,
    and workers writing progress must not wait for a large file to be probed and copied."""
    step = int(frame_step or 1)
    if not 1 <= step <= MAX_FRAME_STEP:
        raise UploadRefused(f"The frame step must be between 1 and {MAX_FRAME_STEP}.")
    facts = inspect_upload(upload)
    analysis = Analysis(
        owner=owner, title=title.strip()[:200], notes=notes, kind=facts.kind, media_format=facts.media_format,
        original_name=(upload.name or "upload")[-255:], size_bytes=upload.size, frame_step=step,
        width=facts.width, height=facts.height, fps=facts.fps, frame_count=facts.frame_count, duration=facts.duration,
    )
    analysis.file.save(f"upload{facts.extension}", upload, save=False)
    try:                            # a failed insert must not leave the stored file behind
        with transaction.atomic():
            analysis.save()
            _enqueue(analysis)
    except BaseException:
        default_storage.delete(analysis.file.name)
        raise
    return analysis


@transaction.atomic
def rerun(analysis: Analysis) -> Analysis:
    """Analyse again with the current model. The old results stay until the new ones replace them."""
    analysis = Analysis.objects.select_for_update().get(pk=analysis.pk)
    analysis.run_id = uuid.uuid4()
    analysis.status, analysis.progress, analysis.attempts = Analysis.Status.QUEUED, 0.0, 0
    analysis.error, analysis.notice = "", ""
    analysis.started_at = analysis.finished_at = None
    analysis.queued_at = timezone.now()
    analysis.save()
    _enqueue(analysis)
    return analysis


def delete_analysis(analysis: Analysis) -> None:
    """The row, its results and its files. Files go after the commit, so a rollback keeps them."""
    names = [n for n in (analysis.file.name, analysis.annotated.name) if n]
    with transaction.atomic():
        analysis.delete()
        transaction.on_commit(lambda: [default_storage.delete(n) for n in names])

