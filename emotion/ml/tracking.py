"""Following faces from frame to frame, so each keeps an id and its own LSTM state.

Detections are matched to known tracks greedily by overlap (IoU), falling back to centre distance
for a face that moved fast. On frames where full-frame detection is skipped, each track is looked for
by the detector in a window around its box, and failing that (a hand over the face) followed by
template matching of its last appearance. A track that detection misses
for ``max_misses`` detection rounds in a row is dropped; a face that comes back gets a new id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from .faces import Box


def iou(a: Box, b: Box) -> float:
    ax1, ay1, bx1, by1 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0, min(ax1, bx1) - max(a[0], b[0]))
    ih = max(0, min(ay1, by1) - max(a[1], b[1]))
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def centre_distance(a: Box, b: Box) -> float:
    """Distance of the centres in units of the larger box side."""
    d = np.hypot(a[0] + a[2] / 2 - b[0] - b[2] / 2, a[1] + a[3] / 2 - b[1] - b[3] / 2)
    return float(d / max(a[2], a[3], b[2], b[3], 1))


@dataclass
class Track:
    id: int
    box: Box
    misses: int = 0                      # detection rounds in a row without a match
    located: Optional[str] = None        # how it was found in the latest frame: detector, template, None
    template: Optional[np.ndarray] = field(default=None, repr=False)


class FaceTracker:
    def __init__(self, min_iou: float = 0.3, max_centre_dist: float = 0.5, max_misses: int = 2,
                 template_side: int = 32):
        self.min_iou, self.max_centre_dist, self.max_misses = min_iou, max_centre_dist, max_misses
        self.template_side = template_side
        self.tracks: List[Track] = []
        self._next_id = 1

    def update(self, gray: np.ndarray, detections: Sequence[Box]) -> Tuple[List[Track], List[int]]:
        """A full detection round: match, create and drop tracks. Call ``follow`` first on the same
        frame, so known faces the scan misses are still located near their boxes. Returns the tracks
        located in this frame and the ids dropped."""
        pairs = sorted(((iou(t.box, d), -centre_distance(t.box, d), ti, di)
                        for ti, t in enumerate(self.tracks) for di, d in enumerate(detections)), reverse=True)
        used_t, used_d = set(), set()
        for ov, neg_dist, ti, di in pairs:
            if ti in used_t or di in used_d or (ov < self.min_iou and -neg_dist > self.max_centre_dist):
                continue
            used_t.add(ti); used_d.add(di)
            track = self.tracks[ti]
            track.box, track.located = detections[di], "detector"
            track.template = self._template(gray, track.box)
        dropped = []
        for ti, track in enumerate(self.tracks):
            if ti in used_t or track.located == "detector":
                track.misses = 0
            else:                         # only a template match, or nothing: the face may be gone
                track.misses += 1
                if track.misses > self.max_misses:
                    dropped.append(track.id)
        self.tracks = [t for t in self.tracks if t.id not in dropped]
        for di, det in enumerate(detections):
            if di not in used_d:
                self.tracks.append(Track(self._next_id, tuple(det), located="detector",
                                         template=self._template(gray, det)))
                self._next_id += 1
        located = [t for t in self.tracks if t.located]
        for t in self.tracks:              # a flag holds for one frame: follow sets it anew
            t.located = None
        return located, dropped

    def follow(self, gray: np.ndarray, locate: Optional[Callable[[np.ndarray, Box], Optional[Box]]] = None
               ) -> List[Track]:
        """Locate each known face in a new frame: ``locate(gray, box)`` (a detector run near the box)
        if it finds it, else the track's template matched nearby. Returns the tracks located; the
        others keep their box until a detection round finds them or drops them."""
        for track in self.tracks:
            found = locate(gray, track.box) if locate is not None else None
            if found is not None:
                track.box, track.located = found, "detector"
                track.template = self._template(gray, found)
                continue
            found = self._search(gray, track) if track.template is not None else None
            track.located = "template" if found is not None else None
            if found is not None:
                track.box = found
        return [t for t in self.tracks if t.located]

    def clear(self) -> None:
        """Forget every face (a scene cut); ids keep counting up, so none is reused."""
        self.tracks = []

    def _template(self, gray: np.ndarray, box: Box) -> Optional[np.ndarray]:
        x, y, w, h = box
        patch = gray[max(y, 0):y + h, max(x, 0):x + w]
        if patch.size == 0:
            return None
        return cv2.resize(patch, (self.template_side, self.template_side), interpolation=cv2.INTER_AREA)

    def _search(self, gray: np.ndarray, track: Track) -> Optional[Box]:
        x, y, w, h = track.box
        s = self.template_side / max(w, 1)           # work at the template's scale: cheap
        pad = int(round(0.3 * w))
        x0, y0 = max(x - pad, 0), max(y - pad, 0)
        x1, y1 = min(x + w + pad, gray.shape[1]), min(y + h + pad, gray.shape[0])
        if x1 - x0 < w or y1 - y0 < h:
            return None
        window = cv2.resize(gray[y0:y1, x0:x1], (max(round((x1 - x0) * s), self.template_side),
                                                 max(round((y1 - y0) * s), self.template_side)),
                            interpolation=cv2.INTER_AREA)
        score = cv2.matchTemplate(window, track.template, cv2.TM_CCOEFF_NORMED)
        _, best, _, (bx, by) = cv2.minMaxLoc(score)
        if not best >= 0.5:                            # lost (occluded, gone) or a flat window (NaN)
            return None
        return (int(round(x0 + bx / s)), int(round(y0 + by / s)), w, h)
