"""Drawing results onto frames: a box per face, its id and shown emotion, and probability bars.
An unreliable result (results.py) is drawn grey, with a thin box and a question mark."""

from __future__ import annotations

from typing import Iterable

import cv2
import numpy as np

from .labels import EMOTION_COLOURS, EMOTIONS, UNRELIABLE_COLOUR, bgr
from .results import FaceResult

# BGR colours per emotion, from the one palette the site's charts use too (labels.py).
COLOURS = {e: bgr(c) for e, c in EMOTION_COLOURS.items()}
UNRELIABLE = bgr(UNRELIABLE_COLOUR)


def draw_faces(frame: np.ndarray, faces: Iterable[FaceResult]) -> np.ndarray:
    out = frame.copy()
    scale = max(0.4, min(out.shape[:2]) / 720)
    for face in faces:
        x, y, w, h = face.box
        colour = COLOURS[face.dominant] if face.reliable else UNRELIABLE
        thick = max(1, int(2 * scale)) if face.reliable else 1
        cv2.rectangle(out, (x, y), (x + w, y + h), colour, thick)
        shown = float(face.probs[EMOTIONS.index(face.dominant)])
        label = f"#{face.face_id} {face.dominant} {shown:.0%}" + ("" if face.reliable else " ?")
        cv2.putText(out, label, (x, max(12, y - 6)), cv2.FONT_HERSHEY_SIMPLEX, 0.6 * scale, colour,
                    max(1, int(2 * scale)), cv2.LINE_AA)
        bar_w, bar_h = max(40, w // 2), max(6, int(10 * scale))
        bx = x + w + 6 if x + w + 6 + bar_w + 60 * scale < out.shape[1] else max(0, x - bar_w - 70)
        for i, (name, p) in enumerate(zip(EMOTIONS, face.probs)):
            by = y + i * (bar_h + 3)
            bar_colour = COLOURS[name] if face.reliable else UNRELIABLE
            cv2.rectangle(out, (bx, by), (bx + int(bar_w * float(p)), by + bar_h), bar_colour, -1)
            cv2.putText(out, name[:3], (bx + bar_w + 4, by + bar_h), cv2.FONT_HERSHEY_SIMPLEX, 0.35 * scale,
                        bar_colour, 1, cv2.LINE_AA)
    return out
