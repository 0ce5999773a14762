"""Drawing results onto frames: a box per face, its id and dominant emotion, and probability bars."""

from __future__ import annotations

from typing import Iterable

import cv2
import numpy as np

from .engine import FaceResult
from .labels import EMOTIONS

# BGR colours per emotion: the same as the site's charts (static/live/colors.js), so a box on an
# annotated video and a line on a timeline mean the same emotion by colour.
COLOURS = {
    "angry": (40, 39, 214), "disgust": (75, 86, 140), "fear": (189, 103, 148), "happy": (30, 176, 242),
    "sad": (180, 119, 31), "surprise": (207, 190, 23), "neutral": (127, 127, 127),
}


def draw_faces(frame: np.ndarray, faces: Iterable[FaceResult]) -> np.ndarray:
    out = frame.copy()
    scale = max(0.4, min(out.shape[:2]) / 720)
    for face in faces:
        x, y, w, h = face.box
        colour = COLOURS[face.dominant]
        cv2.rectangle(out, (x, y), (x + w, y + h), colour, max(1, int(2 * scale)))
        label = f"#{face.face_id} {face.dominant} {face.probs.max():.0%}"
        cv2.putText(out, label, (x, max(12, y - 6)), cv2.FONT_HERSHEY_SIMPLEX, 0.6 * scale, colour,
                    max(1, int(2 * scale)), cv2.LINE_AA)
        bar_w, bar_h = max(40, w // 2), max(6, int(10 * scale))
        bx = x + w + 6 if x + w + 6 + bar_w + 60 * scale < out.shape[1] else max(0, x - bar_w - 70)
        for i, (name, p) in enumerate(zip(EMOTIONS, face.probs)):
            by = y + i * (bar_h + 3)
            cv2.rectangle(out, (bx, by), (bx + int(bar_w * float(p)), by + bar_h), COLOURS[name], -1)
            cv2.putText(out, name[:3], (bx + bar_w + 4, by + bar_h), cv2.FONT_HERSHEY_SIMPLEX, 0.35 * scale,
                        COLOURS[name], 1, cv2.LINE_AA)
    return out
