"""What a live session keeps: counts, averages, time per emotion and a down-sampled timeline.

Plain Python (no Django), fed one analysed frame at a time by the consumer; ``fields()`` gives the
values a ``LiveSession`` row stores. Only the followed face's smoothed probabilities are kept, never
a frame.

Reliability (emotion/ml/quality.py): a frame whose followed face is unreliable still counts as a
frame with a face and still gets its timeline point, flagged ``"r": 0``, but its time is not counted
in the share of time per emotion; ``frames_reliable`` says how many frames were counted.

Timeline points are ``{"t": s, "p": [7 probabilities], "r": 1|0, "d": shown label, "c": confidence}``
for a frame with a followed face (``c``: the calibrated top probability, absent before it existed), and ``{"t": s, "p": null}`` where the faces were lost: the first analysed frame without
a face after one with a face gets such a point, so charts break the line there (a gap) instead of
joining the last face seen to the next one. Sessions stored before these points simply have none.
"""

from __future__ import annotations

from typing import List, Optional, Sequence

from emotion.ml import EMOTIONS
from emotion.ml.results import counts

# A pause longer than this (camera stalled, tab hidden) does not count as time in an emotion.
MAX_GAP_SECONDS = 1.0


def main_face(faces: Sequence[dict]) -> Optional[dict]:
    """The face the session follows: the largest one, i.e. the person nearest the camera."""
    return max(faces, key=lambda f: f["box"][2] * f["box"][3], default=None)


def is_reliable(face: dict) -> bool:
    """A reply face without the flag (an engine older than the quality fields) counts as reliable."""
    return counts(face.get("reliable"))


def unreliable_points(timeline: Sequence[dict]) -> int:
    """Timeline points where the followed face was unreliable (``"r": 0``); points stored before the
    flag existed count as reliable."""
    return sum(1 for p in timeline or () if p.get("r") == 0)


def thinned(timeline: Sequence[dict], step: float) -> List[dict]:
    """The timeline with face points at least ``step`` apart and every gap kept. A gap point only ever
    follows a face point, so at most two points per step remain: halving the resolution about halves
    the points even when the face comes and goes on every frame."""
    kept: List[dict] = []
    for point in timeline:
        if point["p"] is None:
            if kept and kept[-1]["p"] is not None:
                kept.append(point)
        elif not kept or point["t"] - kept[-1]["t"] >= step:
            kept.append(point)
    return kept


class SessionRecorder:
    def __init__(self, start: float, timeline_step: float = 0.5, timeline_points: int = 1200):
        self.start = start
        self.step = timeline_step
        self.max_points = max(2, timeline_points)
        self.frames_received = 0
        self.frames_analysed = 0
        self.frames_with_faces = 0
        self.frames_reliable = 0           # frames whose followed face is reliable: the shares count these
        self.latency_total_ms = 0.0
        self.seconds = {e: 0.0 for e in EMOTIONS}
        self.timeline: List[dict] = []
        self.last_analysed: Optional[float] = None
        self.end = start

    def received(self) -> None:
        self.frames_received += 1

    def analysed(self, now: float, faces: Sequence[dict], latency_ms: float) -> None:
        self.frames_analysed += 1
        self.latency_total_ms += latency_ms
        self.end = now
        face = main_face(faces)
        if face is not None:
            self.frames_with_faces += 1
            reliable = is_reliable(face)
            if reliable:
                self.frames_reliable += 1
                # a frame stands for the time since the previous one; an unreliable frame's time is
                # left out of the shares rather than given to the emotion shown
                if self.last_analysed is not None:
                    self.seconds[face["dominant"]] += min(now - self.last_analysed, MAX_GAP_SECONDS)
            self._add_point(now - self.start, face, reliable)
        elif self.timeline and self.timeline[-1]["p"] is not None:
            # whatever the step: a gap left out would be drawn as a line through the time without a face
            self.timeline.append({"t": round(now - self.start, 2), "p": None})
        self.last_analysed = now

    def _add_point(self, t: float, face: dict, reliable: bool) -> None:
        if self.timeline and t - self.timeline[-1]["t"] < self.step:
            return
        point = {"t": round(t, 2), "p": [round(float(face["probs"][e]), 3) for e in EMOTIONS],
                 "r": int(reliable), "d": face.get("dominant") or ""}
        if face.get("confidence") is not None:
            point["c"] = round(float(face["confidence"]), 3)
        self.timeline.append(point)
        if len(self.timeline) > self.max_points:
            # Keep the whole session at half the resolution rather than drop its beginning.
            self.step *= 2
            self.timeline = thinned(self.timeline, self.step)

    def fields(self) -> dict:
        """The session's figures, by LiveSession field name; each point of the timeline also keeps its
        reliability (the "r" flag)."""
        duration = max(self.end - self.start, 0.0)
        face_time = sum(self.seconds.values())
        return {
            "frames_received": self.frames_received,
            "frames_analysed": self.frames_analysed,
            "frames_with_faces": self.frames_with_faces,
            "frames_reliable": self.frames_reliable,
            "avg_fps": round(self.frames_analysed / duration, 2) if duration > 0 else None,
            "avg_latency_ms": round(self.latency_total_ms / self.frames_analysed, 2) if self.frames_analysed else None,
            "emotion_share": {e: round(s / face_time, 4) for e, s in self.seconds.items()} if face_time else {},
            "timeline": list(self.timeline),
            "timeline_step": self.step,
        }
