"""The retention purge: what is older than its kind's retention period goes, one function for the
`purge` command and the daily Celery task.

Kinds and their settings (days, 0 = keep for ever; defaults and reasons in fersite/settings.py):

- originals (FER_RETAIN_ORIGINALS_DAYS), by upload date: the uploaded file goes, the analysis and its
  results stay, and a PurgedMedia row lets its page say "original deleted after N days";
- annotated (FER_RETAIN_ANNOTATED_DAYS), by the analysis' end: the annotated image or video, likewise;
  the frames kept for the timeline page go with whichever of these two goes first;
- results (FER_RETAIN_RESULTS_DAYS), by upload date: the whole analysis, rows and files, through
  research.services.delete_analysis like a user's delete;
- recordings (FER_RETAIN_RESULTS_DAYS, as results: they are research results too), by start: participants'
  remote sessions of stimuli with their frames. A recording attached from an upload is a view of its
  analysis and goes with it, under results (its start is the analysis' upload date);
- live (FER_RETAIN_LIVE_DAYS), by start: stored live sessions.

Analyses still queued or running are never touched: their job reads the file. Files go through the
storage API only (default_storage), never paths, so this works on object storage too. Files are
deleted after the rows are committed, so a failure keeps the page and the file consistent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Dict, List, Optional

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from emotion.live.models import LiveSession
from emotion.research.analyses import services
from emotion.research.models import Analysis, FrameResult
from emotion.stimuli.models import Recording, RecordingFrame
from emotion.stimuli.sessions.recording_store import REJOIN_SECONDS

from .models import PurgedMedia

log = logging.getLogger(__name__)
KINDS = ("originals", "annotated", "results", "recordings", "live")
SETTING = {"originals": "FER_RETAIN_ORIGINALS_DAYS", "annotated": "FER_RETAIN_ANNOTATED_DAYS",
           "results": "FER_RETAIN_RESULTS_DAYS", "recordings": "FER_RETAIN_RESULTS_DAYS",
           "live": "FER_RETAIN_LIVE_DAYS"}
WHAT = {"originals": "original files", "annotated": "annotated files", "results": "analyses",
        "recordings": "remote sessions", "live": "live sessions"}
ROWS = {"results": "result rows", "recordings": "frame rows"}
FINISHED = (Analysis.Status.DONE, Analysis.Status.FAILED)


@dataclass
class KindReport:
    days: int
    count: int = 0          # files, analyses or sessions
    bytes: int = 0          # stored bytes freed (files)
    rows: int = 0           # per-frame rows (results and recordings)

    def line(self, kind: str, dry_run: bool) -> str:
        if not self.days:
            return f"{kind}: kept for ever ({SETTING[kind]}=0)"
        verb = "would delete" if dry_run else "deleted"
        extra = f" with {self.rows} {ROWS[kind]}" if kind in ROWS else ""
        size = f", {human_bytes(self.bytes)}" if kind in ("originals", "annotated", "results") else ""
        return f"{kind}: {verb} {self.count} {WHAT[kind]}{extra}{size} (older than {self.days} days)"


@dataclass
class Report:
    dry_run: bool
    kinds: Dict[str, KindReport] = field(default_factory=dict)

    def lines(self) -> List[str]:
        return [self.kinds[k].line(k, self.dry_run) for k in KINDS]

    def as_dict(self) -> dict:
        return {"dry_run": self.dry_run, **{k: vars(v) for k, v in self.kinds.items()}}


def retention_days(kind: str) -> int:
    return max(0, int(getattr(settings, SETTING[kind], 0) or 0))


def purge(dry_run: bool = False, now=None) -> Report:
    """Delete (or, in a dry run, only count) everything past its retention period."""
    now = now or timezone.now()
    report = Report(dry_run, {k: KindReport(retention_days(k)) for k in KINDS})
    cutoff = {k: now - timedelta(days=r.days) for k, r in report.kinds.items() if r.days}
    # An analysis that goes whole is counted under results only, not again for its files.
    spared = {"created_at__gte": cutoff["results"]} if "results" in cutoff else {}
    if "results" in cutoff:
        _results(report.kinds["results"], cutoff["results"], dry_run)
    if "originals" in cutoff:
        _purge_file(report.kinds["originals"], {"created_at__lt": cutoff["originals"], **spared}, "file",
                    dry_run, now)
    if "annotated" in cutoff:
        _purge_file(report.kinds["annotated"], {"finished_at__lt": cutoff["annotated"], **spared}, "annotated",
                    dry_run, now)
    if "recordings" in cutoff:
        _recordings(report.kinds["recordings"], cutoff["recordings"], dry_run, now)
    if "live" in cutoff:
        _live(report.kinds["live"], cutoff["live"], dry_run)
    return report


def _size(name: str) -> int:
    try:
        return default_storage.size(name)
    except (OSError, NotImplementedError):      # already gone, or a backend that cannot say
        return 0


def _delete_files(names: List[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            log.exception("purge: could not delete %s", name)


def _results(rep: KindReport, cutoff, dry_run: bool) -> None:
    for analysis in Analysis.objects.filter(created_at__lt=cutoff, status__in=FINISHED).iterator():
        rep.count += 1
        rep.rows += FrameResult.objects.filter(analysis=analysis).count()
        rep.bytes += sum(_size(n) for n in analysis.stored_names())
        if not dry_run:
            services.delete_analysis(analysis)


def _purge_file(rep: KindReport, filters: dict, field_name: str, dry_run: bool, now) -> None:
    qs = (Analysis.objects.filter(status__in=FINISHED, **filters).exclude(**{field_name: ""})
          .only("pk", field_name))
    for analysis in qs.iterator():
        name = getattr(analysis, field_name).name
        rep.count += 1
        rep.bytes += _size(name)
        if dry_run:
            continue
        with transaction.atomic():
            # only if still the same file: a re-run meanwhile may have replaced the annotated media
            if not Analysis.objects.filter(pk=analysis.pk, **{field_name: name}).update(**{field_name: ""}):
                continue
            stamp = {"original_purged_at": now, "original_days": rep.days} if field_name == "file" else \
                {"annotated_purged_at": now, "annotated_days": rep.days}
            PurgedMedia.objects.update_or_create(analysis_id=analysis.pk, defaults=stamp)
            names = [name, *_frames_with(analysis.pk)]
            transaction.on_commit(lambda n=names: _delete_files(n))


def _frames_with(pk: int) -> List[str]:
    """The frames the timeline page shows are the original's pictures with boxes drawn (faces never
    blurred): they go with the original or the annotated media, whichever goes first."""
    frames = Analysis.objects.filter(pk=pk).exclude(frames="").values_list("frames", flat=True).first()
    if not frames:
        return []
    Analysis.objects.filter(pk=pk).update(frames="", frames_step=0)
    return [frames]


def _recordings(rep: KindReport, cutoff, dry_run: bool, now) -> None:
    """Remote sessions started before the cutoff, with their frames (no files: never an image).

    One still "running" goes too once it can no longer go on: its page can rejoin it for REJOIN_SECONDS
    and a stimulus plays for at most FER_MAX_VIDEO_SECONDS, so past both (always the case for a period of
    a day or more with the defaults) it was abandoned, its `end` never came (the server restarted, the
    participant's browser died). It would never be finished, so skipping it would keep the participant's
    frames for ever, which the period forbids. (A page left paused with its socket open for that long
    finds its session gone, as when an editor deletes it.)"""
    abandoned = now - timedelta(seconds=REJOIN_SECONDS + settings.FER_MAX_VIDEO_SECONDS)
    qs = (Recording.objects.filter(source=Recording.Source.REMOTE, started_at__lt=cutoff)
          .filter(Q(state=Recording.State.DONE) | Q(started_at__lt=abandoned)))
    rep.count = qs.count()
    rep.rows = RecordingFrame.objects.filter(recording__in=qs).count()
    if not dry_run:
        with transaction.atomic():
            qs.delete()                # the frames go with them (CASCADE)


def _live(rep: KindReport, cutoff, dry_run: bool) -> None:
    qs = LiveSession.objects.filter(started_at__lt=cutoff)
    rep.count = qs.count()
    if not dry_run:
        qs.delete()


def human_bytes(n: Optional[int]) -> str:
    n = float(n or 0)
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"
