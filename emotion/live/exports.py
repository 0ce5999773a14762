"""A stored live session as CSV (its timeline, one row per point) or JSON (its facts and timeline).

Per point: ``t`` (seconds from the start), the 7 smoothed probabilities of the followed face, the
label shown (``dominant``; sessions stored before the label was kept get the most probable emotion),
the most probable emotion of those probabilities (``top``: the shown label is held with hysteresis, so
the two can differ), ``valence`` = happy minus the strongest of angry, disgust, fear and sad, ``reliable`` and ``face``. A
point without a face (where the faces were lost) has face 0 and its other columns empty: the gap is
kept, as on the chart. A session holds at most FER_LIVE_TIMELINE_POINTS points, so both are built in
memory.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Iterator, Optional

from django.utils.text import slugify

from emotion.ml import EMOTIONS
from emotion.ml.export import safe_row
from emotion.ml.results import top_emotion
from emotion.ml.valence import valence

from .models import LiveSession

COLUMNS = ("t", *EMOTIONS, "dominant", "top", "valence", "confidence", "reliable", "face")


def points(session: LiveSession) -> Iterator[dict]:
    for point in session.timeline or ():
        p = point.get("p")
        if p is None:
            yield {"t": point["t"], **{e: None for e in EMOTIONS}, "dominant": None, "top": None, "valence": None,
                   "confidence": None, "reliable": None, "face": 0}
            continue
        probs = dict(zip(EMOTIONS, p))
        top = top_emotion(probs)
        yield {"t": point["t"], **probs, "dominant": point.get("d") or top, "top": top,
               "valence": round(valence(probs), 4), "confidence": point.get("c"), "reliable": point.get("r", 1) != 0, "face": 1}


def facts(session: LiveSession) -> dict:
    return {
        "session": session.pk,
        "started_at": session.started_at.isoformat(),
        "ended_at": session.ended_at.isoformat() if session.ended_at else None,
        "duration_s": session.duration.total_seconds() if session.duration else None,
        "frames_received": session.frames_received, "frames_analysed": session.frames_analysed,
        "frames_with_faces": session.frames_with_faces, "face_share": _rounded(session.face_share),
        "avg_fps": session.avg_fps, "avg_latency_ms": session.avg_latency_ms,
        "client_rtt_ms": session.client_rtt_ms, "client_dropped": session.client_dropped,
        "emotion_share": session.emotion_share, "dominant_emotion": session.dominant_emotion or None,
        "timeline_step_s": session.timeline_step, "model_version": session.model_version,
        "emotions": list(EMOTIONS),
        "valence": "happy - max(angry, disgust, fear, sad)",
    }


def as_json(session: LiveSession) -> str:
    return json.dumps({**facts(session), "columns": list(COLUMNS), "timeline": list(points(session))}, indent=1)


def as_csv(session: LiveSession) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in points(session):
        writer.writerow(safe_row({k: ("" if v is None else int(v) if isinstance(v, bool) else v) for k, v in row.items()}))
    return buf.getvalue()


def filename(session: LiveSession, ext: str) -> str:
    return f"live-session-{session.pk}-{slugify(session.started_at.strftime('%Y-%m-%d %H%M'))}.{ext}"


def _rounded(value: Optional[float]) -> Optional[float]:
    return None if value is None else round(value, 4)
