"""Analyses and live sessions made directly in the database, with real files in the storage."""

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from emotion.live.models import LiveSession
from emotion.ml import EMOTIONS
from emotion.research.models import Analysis, FrameResult


def make_analysis(owner, days_old: float = 0, title: str = "clip", results: int = 3, annotated: bool = True,
                  status=Analysis.Status.DONE, frames: bool = False, **kw) -> Analysis:
    original = default_storage.save("uploads/test/original.mp4", ContentFile(b"o" * 1000))
    boxed = default_storage.save("annotated/test/annotated.mp4", ContentFile(b"a" * 300)) if annotated else ""
    if frames:          # the frames kept for the timeline page (emotion/ml/frame_pack.py)
        kw.update(frames=default_storage.save("frames/test/frames.zip", ContentFile(b"f" * 200)), frames_step=1)
    a = Analysis.objects.create(owner=owner, title=title, kind="video", file=original, annotated=boxed,
                                original_name=f"{title}.mp4", size_bytes=1000, media_format="mp4", status=status,
                                result_count=results, face_count=1 if results else 0, model_version="m@1",
                                summary={"faces": 1}, **kw)
    for frame in range(results):
        probs = dict.fromkeys(EMOTIONS, 0.0) | {"happy": 0.8, "neutral": 0.2}
        FrameResult.objects.create(analysis=a, frame=frame, time=frame / 10, face_id=1, x=1, y=2, w=30, h=30,
                                   dominant="happy", source="detected", reliable=True, model_version="m@1", **probs)
    when = timezone.now() - timezone.timedelta(days=days_old)
    Analysis.objects.filter(pk=a.pk).update(created_at=when, finished_at=when)
    a.refresh_from_db()
    return a


def make_session(user=None, days_old: float = 0) -> LiveSession:
    start = timezone.now() - timezone.timedelta(days=days_old)
    return LiveSession.objects.create(user=user, started_at=start, ended_at=start + timezone.timedelta(seconds=3),
                                      frames_analysed=30, frames_with_faces=20, model_version="m@1",
                                      timeline=[{"t": 0.0, "p": [0, 0, 0, 1, 0, 0, 0], "r": 1, "d": "happy"},
                                                {"t": 0.6, "p": None}])
