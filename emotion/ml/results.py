"""The one shape of a result: one face on one frame. Every output derives from it: the engine's
records, the flat rows of CSV, JSON, the API and the stored results, the live reply and the drawn
annotations.

Each result carries how trustworthy it is beside what it says: ``source`` (how its box was found in
this frame), ``face_size``, ``sharpness``, ``brightness`` and ``noise`` of the face the model saw, the
model's calibrated ``confidence``, and ``reliable``, one rule over those (see ``quality.py``). Unreliable results are kept and flagged,
never hidden; summaries count reliable ones only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Tuple

import numpy as np

from .labels import EMOTIONS

Box = Tuple[int, int, int, int]

# How a box was found in its frame: the face detector confirmed a face there (a full-frame scan or a
# search near the face's last box), or only the tracker's template matching held it.
DETECTED, TRACKED = "detected", "tracked"


def counts(reliable) -> bool:
    """Which results count in shares, means, statistics and agreement: every one not flagged unreliable.
    ``None`` (a result stored before the flag existed) counts. The one statement of the rule: the ORM's
    form is research/stats/statistics.py's USED, the pages' is ferCounts in static/live/colors.js."""
    return reliable is not False


QUALITY_FIELDS = ("source", "face_size", "sharpness", "brightness", "noise", "confidence", "reliable")
# The flat row: CSV columns, JSON results, API rows and stored results, in this order. ``dominant`` is
# the label shown (held with hysteresis, labelling.py); ``top`` the most probable emotion of the
# probabilities in the same row, so a reader sees where the two differ without redoing the argmax.
COLUMNS = ("frame", "time", "face_id", "x", "y", "w", "h", *EMOTIONS, "dominant", "top", *QUALITY_FIELDS,
           "model_version")
# ``top`` follows from the row's probabilities, so it is not stored: exports add it as they read rows.
DERIVED = ("top",)
STORED_COLUMNS = tuple(c for c in COLUMNS if c not in DERIVED)


def top_emotion(row: Mapping) -> str:
    """The most probable emotion of a flat row, from its (rounded) probabilities: the first in EMOTIONS
    order on a tie, as numpy's argmax."""
    return max(EMOTIONS, key=lambda e: row[e])


def with_top(row: dict) -> dict:
    """A flat row read back from storage (STORED_COLUMNS) with ``top`` in its place after ``dominant``."""
    return {c: top_emotion(row) if c == "top" else row[c] for c in COLUMNS}


@dataclass
class FaceResult:
    face_id: int
    box: Box                   # (x, y, w, h) in the frame's pixels
    probs: np.ndarray          # (7,) in EMOTIONS order
    # The label shown: the most probable emotion, except that a tracked face keeps its label until
    # another emotion leads it by more than a margin or for long enough (labelling.py), so a near tie
    # does not flicker; ``top`` in the flat row is the plain argmax beside it.
    label: int = -1            # index into EMOTIONS; -1 means "the most probable"
    source: str = DETECTED
    face_size: int = 0         # side of the box in pixels (sqrt(w h))
    sharpness: float = 0.0     # variance of the Laplacian of the 48x48 face the model saw
    brightness: float = 0.0    # mean grey level (0-255) of that face
    noise: float = 0.0         # estimated sensor noise of that face, grey levels (quality.noise)
    confidence: float = 0.0    # the top probability after temperature scaling (quality.confidence)
    reliable: bool = True
    frame: int = 0             # index in the video; 0 for an image
    time: float = 0.0          # seconds from the start of the video

    @property
    def dominant(self) -> str:
        return EMOTIONS[self.label if self.label >= 0 else int(np.argmax(self.probs))]

    def quality(self) -> dict:
        return {"source": self.source, "face_size": int(self.face_size), "sharpness": round(float(self.sharpness), 1),
                "brightness": round(float(self.brightness), 1), "noise": round(float(self.noise), 2),
                "confidence": round(float(self.confidence), 4), "reliable": bool(self.reliable)}

    def to_dict(self) -> dict:
        """The nested form of one face (the live reply's faces)."""
        probs = {e: round(float(p), 5) for e, p in zip(EMOTIONS, self.probs)}
        return {"id": self.face_id, "box": [int(v) for v in self.box], "probs": probs,
                "dominant": self.dominant, "top": top_emotion(probs), **self.quality()}

    def row(self, model_version: str) -> dict:
        """The flat form, with the keys of COLUMNS in their order; ``top`` is the argmax of the rounded
        probabilities written, as an export of the stored row computes it."""
        x, y, w, h = (int(v) for v in self.box)
        probs = {e: round(float(p), 5) for e, p in zip(EMOTIONS, self.probs)}
        return {"frame": self.frame, "time": round(self.time, 4), "face_id": self.face_id, "x": x, "y": y, "w": w,
                "h": h, **probs, "dominant": self.dominant, "top": top_emotion(probs), **self.quality(),
                "model_version": model_version}

    @classmethod
    def from_row(cls, row: Mapping) -> "FaceResult":
        """Back from a flat row (a stored result, say), to draw it again. Rows written before the
        quality fields existed read as detected and reliable."""
        probs = np.array([row[e] for e in EMOTIONS], np.float32)
        dominant = row.get("dominant")
        reliable = row.get("reliable")
        return cls(face_id=int(row["face_id"]), box=(int(row["x"]), int(row["y"]), int(row["w"]), int(row["h"])),
                   probs=probs, label=EMOTIONS.index(dominant) if dominant in EMOTIONS else -1,
                   source=row.get("source") or DETECTED, face_size=int(row.get("face_size") or 0),
                   sharpness=float(row.get("sharpness") or 0.0), brightness=float(row.get("brightness") or 0.0),
                   noise=float(row.get("noise") or 0.0), confidence=float(row.get("confidence") or 0.0),
                   reliable=True if reliable is None else bool(reliable), frame=int(row.get("frame", 0)),
                   time=float(row.get("time", 0.0)))
