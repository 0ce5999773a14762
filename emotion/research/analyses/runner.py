"""The analysis job itself: read the stored file, run the engine, replace the results in one step; its
states (claimed, progress, done or failed) are lifecycle.py's.

Safe to run more than once for the same run (a re-delivered Celery message after a worker died): the
results are written in a single transaction that first deletes whatever an earlier attempt left, so an
analysis ends with exactly one complete set of rows.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, List, Optional

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction

from emotion.ml import MediaError
from emotion.ml.driver import AnnotatedSink, RowSink, run_media
from emotion.ml.frame_pack import FramePackSink
from emotion.ml.media import VideoInfo, check_pixels
from emotion.ml.results import STORED_COLUMNS
from emotion.runtime import get_engine

from ..models import Analysis, FrameResult
from . import lifecycle, progress
from .summary import summarise
from .validation import without_path

log = logging.getLogger(__name__)
PUSH_INTERVAL = 0.5      # seconds between progress updates of one analysis
BULK_BATCH = 2000


def run_analysis(analysis_id: int, run_id: str) -> str:
    """Analyse one stored upload; returns what happened, for the worker's log."""
    analysis = lifecycle.claim(analysis_id, run_id)
    if isinstance(analysis, str):
        return analysis
    try:
        refuse_over_limit(analysis)
        # Everything this job writes locally lives in one folder that goes away with the job.
        with local_copy(analysis.file.name) as path, \
                tempfile.TemporaryDirectory(prefix="job-", dir=settings.FILE_UPLOAD_TEMP_DIR) as work:
            rows, kept, frames, truncated = _analyse(analysis, path, work)
            done = _finish(analysis, rows, kept, frames, truncated)
        return f"{done.status}: {len(rows)} results"
    except lifecycle.Superseded as exc:
        return f"superseded: {exc}"
    except MediaError as exc:
        lifecycle.fail(analysis, "The file cannot be analysed: " + without_path(str(exc)))
        return "failed: unreadable media"
    except SoftTimeLimitExceeded:
        limit = settings.CELERY_TASK_SOFT_TIME_LIMIT
        lifecycle.fail(analysis, f"The analysis took longer than the limit of {limit} s. "
                                 "Re-run it with a larger frame step.")
        return "failed: time limit"
    except Exception as exc:     # noqa: BLE001 - the worker keeps serving; the reason is kept
        log.exception("analysis %s failed", analysis_id)
        lifecycle.fail(analysis, f"The analysis stopped on an internal error ({exc.__class__.__name__}). "
                                 "It has been logged; re-run it to try again.")
        return "failed: internal error"


def refuse_over_limit(analysis: Analysis) -> None:
    """Before anything is decoded: the size stored at upload (read from the file's headers) against
    the limits in force now. Raises OverLimitError (a MediaError), so an analysis stored before the
    limits, or under laxer ones, fails with the reason instead of costing gigabytes to decode."""
    if analysis.width and analysis.height:
        image = analysis.kind == Analysis.Kind.IMAGE
        check_pixels(analysis.width, analysis.height,
                     settings.FER_MAX_IMAGE_PIXELS if image else settings.FER_MAX_VIDEO_PIXELS,
                     "stored file", "image" if image else "video's frame size")


@contextmanager
def local_copy(name: str) -> Iterator[str]:
    """A local path for OpenCV: the file itself on disk storage, a temporary copy from object storage."""
    try:
        yield default_storage.path(name)
        return
    except NotImplementedError:
        pass
    fd, path = tempfile.mkstemp(suffix=os.path.splitext(name)[1], dir=settings.FILE_UPLOAD_TEMP_DIR)
    try:
        with os.fdopen(fd, "wb") as out, default_storage.open(name, "rb") as src:
            shutil.copyfileobj(src, out, 1 << 20)
        yield path
    finally:
        os.unlink(path)


@dataclass
class Kept:
    """The files a job made for the analysis (local paths, None where none came out)."""
    annotated: Optional[str]
    frames: Optional[str]           # the frames the timeline page shows (emotion/ml/frame_pack.py)
    frames_step: int


def _analyse(analysis: Analysis, path: str, work: str):
    """(rows, Kept, frames analysed, truncation or None)"""
    engine = get_engine()
    is_image = analysis.kind == Analysis.Kind.IMAGE
    info = None if is_image else VideoInfo(fps=analysis.fps, frame_count=analysis.frame_count,
                                           width=analysis.width, height=analysis.height)
    rows = RowSink(engine.version)
    # the annotated copy: H.264 MP4 with the original's sound (a browser plays it on the timeline page)
    annotated = AnnotatedSink(os.path.join(work, "annotated.jpg" if is_image else "annotated.mp4"), source=path,
                              blur=settings.FER_BLUR_FACES)
    pack = FramePackSink(os.path.join(work, "frames.zip"), max_frames=settings.FER_VIEWER_FRAMES)
    outcome = run_media(engine, path, [rows, annotated, pack], kind=analysis.kind, info=info,
                        frame_step=max(1, analysis.frame_step), progress=None if is_image else _Ticker(analysis),
                        max_seconds=settings.FER_MAX_VIDEO_SECONDS)
    kept = Kept(str(annotated.path) if annotated.written else None, str(pack.path) if pack.written else None,
                pack.step if pack.written else 0)
    return rows.rows, kept, outcome.frames, outcome.truncated


class _Ticker:
    """The engine's progress callback: writes the row and pushes to the page at most twice a second,
    and notices a deletion or re-run, so the worker stops early instead of finishing unwanted work."""

    def __init__(self, analysis: Analysis):
        self.analysis = analysis
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last < PUSH_INTERVAL:
            return
        self.last = now
        lifecycle.advance(self.analysis, done / max(total, 1))


def _finish(analysis: Analysis, rows: List[dict], kept: Kept, frames: int, truncated) -> Analysis:
    stored = {"annotated": _store("annotated", kept.annotated), "frames": _store("frames", kept.frames)}
    try:
        current = _save_results(analysis, rows, stored, kept.frames_step, frames, truncated)
    except BaseException:
        for name in stored.values():          # nothing refers to them: the transaction did not commit
            _discard(name)
        raise
    progress.push(current)
    return current


def _store(folder: str, path: Optional[str]) -> str:
    if not path:
        return ""
    with open(path, "rb") as fh:
        return default_storage.save(f"{folder}/{uuid.uuid4().hex}{os.path.splitext(path)[1]}", File(fh))


def _save_results(analysis: Analysis, rows: List[dict], stored: dict, frames_step: int, frames: int,
                  truncated) -> Analysis:
    with transaction.atomic():
        current = lifecycle.current_run(analysis)
        FrameResult.objects.filter(analysis=current).delete()
        # derived columns (``top``) are not stored: exports compute them from the stored probabilities
        FrameResult.objects.bulk_create((FrameResult(analysis=current, **{c: r[c] for c in STORED_COLUMNS})
                                         for r in rows), batch_size=BULK_BATCH)
        old = {field: getattr(current, field).name for field in stored}
        summary = summarise(rows, frames)
        current.summary, current.result_count, current.face_count = summary, len(rows), summary["faces"]
        current.annotated, current.frames = stored["annotated"], stored["frames"]
        current.frames_step = frames_step if stored["frames"] else 0
        current.model_version = get_engine().version
        lifecycle.settle(current, len(rows), truncated)
        current.save()
        for field, name in old.items():
            if name and name != stored[field]:
                transaction.on_commit(lambda n=name: _discard(n))
    return current


def _discard(name: str) -> None:
    if name:
        try:
            default_storage.delete(name)
        except OSError:
            log.warning("could not delete %s", name, exc_info=True)
