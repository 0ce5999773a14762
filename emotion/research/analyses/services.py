"""Creating, editing, re-running and deleting analyses: the one place the pages, the API and the admin go
through (studies and their members: studies/services.py). Who may do what is decided by the callers, with
the rule of emotion/access.py."""

from __future__ import annotations

import logging
from typing import Optional

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from emotion.web.badtext import bad_character
from emotion.web.refusals import Refused  # noqa: F401 - services.Refused: for the callers

from ..models import TITLE_LENGTH, Analysis, Study
from ..studies.services import condition_named, participant_named, study_key
from . import lifecycle
from .lifecycle import QueueUnavailable, require_queue  # noqa: F401 - for the callers
from .shares import Busy, check_jobs, count_uploads, user_probe  # noqa: F401 - Busy, count_uploads: for the callers
from .validation import UploadRefused, inspect_upload

log = logging.getLogger(__name__)
MAX_FRAME_STEP = 1000
MAX_TAGS, MAX_TAG_LENGTH = 20, 40


def _queue(analysis: Analysis, undo) -> None:
    from ..tasks import send        # deferred: the web process needs the task module only to send

    lifecycle.send_on_commit(analysis, send, undo)


def create_analysis(owner, upload: UploadedFile, title: str = "", notes: str = "",
                    frame_step: Optional[int] = None, study: Optional[Study] = None,
                    participant: str = "", condition: str = "") -> Analysis:
    """Check the upload (UploadRefused says why not), store it under a generated name, queue the job.
    Checking and storing happen outside the transaction: on SQLite a transaction holds the write lock,
    and workers writing progress must not wait for a large file to be probed and copied.
    QueueUnavailable when the job cannot be queued: then neither the row nor the file is kept.
    Busy (shares.py) when the owner has as many analyses queued or running as one user may, or as many
    probes in flight, or this process has no probe turn free: nothing is stored, the message says when
    to try again. In a study, the participant code and condition name are created when new (Refused if
    malformed)."""
    step = int(frame_step or 1)
    if not 1 <= step <= MAX_FRAME_STEP:
        raise UploadRefused(f"The frame step must be between 1 and {MAX_FRAME_STEP}.")
    participant, condition = study_key("participant", study, participant), study_key("condition", study, condition)
    require_queue()
    check_jobs(owner)                       # before the probe: a user at the bound costs no probing
    with user_probe(owner):
        facts = inspect_upload(upload)
    analysis = Analysis(
        owner=owner, title=title.strip()[:TITLE_LENGTH], notes=notes, kind=facts.kind, media_format=facts.media_format,
        original_name=(upload.name or "upload")[-255:], size_bytes=upload.size, frame_step=step,
        width=facts.width, height=facts.height, fps=facts.fps, frame_count=facts.frame_count, duration=facts.duration,
        video_offset=facts.offset,
    )
    analysis.file.save(f"upload{facts.extension}", upload, save=False)

    def undo():                     # the row is committed by now: it goes, with its file
        Analysis.objects.filter(pk=analysis.pk).delete()

    try:                            # a failed insert (or send) must not leave the stored file behind
        with transaction.atomic():
            if study is not None:
                analysis.study = study
                analysis.participant = participant_named(study, participant)
                analysis.condition = condition_named(study, condition)
            analysis.save()
            _queue(analysis, undo)
    except BaseException:
        default_storage.delete(analysis.file.name)
        raise
    return analysis


class OriginalGone(Exception):
    """The uploaded file is no longer stored (deleted after its retention period): nothing to re-run."""

    def __init__(self):
        super().__init__("The original file was deleted after its retention period, so this analysis cannot "
                         "be run again; its results are kept.")


def rerun(analysis: Analysis, bounded: bool = True) -> Analysis:
    """Analyse again with the current model. The old results stay until the new ones replace them.
    OriginalGone when the upload was purged; QueueUnavailable when the job cannot be queued; Busy when
    its owner (whose turn the job takes) has as many analyses queued or running as one user may, unless
    not ``bounded`` (the admin's deliberate re-runs; their jobs still wait their owner's turn). All
    checked first, so the analysis is left as it was; if sending fails after the commit, it ends failed
    with a message saying to re-run it."""
    if not analysis.file:
        raise OriginalGone()
    require_queue()
    if bounded:
        check_jobs(analysis.owner)

    def undo():
        Analysis.objects.filter(pk=analysis.pk, run_id=analysis.run_id).update(
            status=Analysis.Status.FAILED, finished_at=timezone.now(),
            error="The job could not be queued (the job queue was unavailable). Re-run it.")

    with transaction.atomic():
        analysis = Analysis.objects.select_for_update().get(pk=analysis.pk)
        lifecycle.new_run(analysis)
        analysis.save()
        _queue(analysis, undo)
    return analysis


def delete_analysis(analysis: Analysis) -> None:
    """The row, its results and its files. Files go after the commit, so a rollback keeps them."""
    names = analysis.stored_names()
    with transaction.atomic():
        analysis.delete()
        transaction.on_commit(lambda: [default_storage.delete(n) for n in names])


def clean_tags(value) -> list:
    """A list of short labels from a list or a comma-separated string: stripped, empty ones dropped,
    duplicates dropped (first spelling kept)."""
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, (list, tuple)) or not all(isinstance(t, str) for t in value):
        raise Refused("Tags must be a list of short texts.", "tags")
    tags, seen = [], set()
    for t in (t.strip() for t in value):
        if not t or t.lower() in seen:
            continue
        if len(t) > MAX_TAG_LENGTH:
            raise Refused(f"The tag “{t[:MAX_TAG_LENGTH]}…” is longer than {MAX_TAG_LENGTH} characters.", "tags")
        what = bad_character(t)
        if what:
            raise Refused(f"A tag contains {what}; remove it and send again.", "tags")
        seen.add(t.lower())
        tags.append(t)
    if len(tags) > MAX_TAGS:
        raise Refused(f"At most {MAX_TAGS} tags.", "tags")
    return tags


EDITABLE = ("title", "notes", "participant", "condition", "tags", "is_baseline")


def update_analysis(analysis: Analysis, **changes) -> Analysis:
    """Change some of EDITABLE (participant and condition by code and name, created when new; "" for
    none). Marking it the participant's baseline unmarks the participant's other one, in the same
    transaction. Refused, naming the field, when a change cannot be made; then nothing is changed."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise Refused(f"These cannot be changed: {', '.join(sorted(unknown))}.")
    # everything is checked before anything is set: a refusal leaves the analysis as it was, in memory too
    new = {}
    if "title" in changes:
        new["title"] = (changes["title"] or "").strip()
        if len(new["title"]) > TITLE_LENGTH:
            raise Refused(f"The title is longer than {TITLE_LENGTH} characters.", "title")
    if "notes" in changes:
        new["notes"] = changes["notes"] or ""
    if "tags" in changes:
        new["tags"] = clean_tags(changes["tags"])
    keys = {f: study_key(f, analysis.study, changes[f]) for f in ("participant", "condition") if f in changes}
    has_participant = bool(keys["participant"]) if "participant" in keys else analysis.participant_id is not None
    baseline = bool(changes["is_baseline"]) if "is_baseline" in changes else analysis.is_baseline
    if baseline and not has_participant:
        if changes.get("is_baseline"):
            raise Refused("Only an analysis with a participant can be the participant's baseline.", "is_baseline")
        baseline = False            # its participant was removed: it is nobody's baseline now
    with transaction.atomic():
        for field, value in new.items():
            setattr(analysis, field, value)
        if "participant" in keys:
            analysis.participant = participant_named(analysis.study, keys["participant"])
        if "condition" in keys:
            analysis.condition = condition_named(analysis.study, keys["condition"])
        analysis.is_baseline = baseline
        if baseline:
            Analysis.objects.filter(participant=analysis.participant, is_baseline=True).exclude(
                pk=analysis.pk).update(is_baseline=False)
        analysis.save(update_fields=["title", "notes", "tags", "participant", "condition", "is_baseline"])
    return analysis
