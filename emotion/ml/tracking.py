"""Following faces from frame to frame, so each keeps an id and its own LSTM state.

Every frame, each known face is looked for by the detector in a window around its last box; failing
that (a hand over the face, a head turning), its last appearance is matched as a template nearby. A
box that only the template holds is reported as ``tracked``, and only for ``hold_seconds`` after the
detector last confirmed the face: then the track ends, so a template that has slid onto the
background cannot stay there. Periodic full-frame scans find new faces; their detections are matched
to known tracks by overlap (IoU), falling back to centre distance for a face that moved fast. A face
that comes back after its track ended gets a new id; ids are never reused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, List, Optional, Sequence

import cv2
import numpy as np

from .results import DETECTED, TRACKED, Box

# How long a face may be held by template matching alone, without the detector confirming it: long
# enough to bridge a hand passing over the face, short enough that a lost template cannot leave a box
# on the background for long. In seconds of the video, so every frame step behaves alike.
HOLD_SECONDS = 0.5
# Grey-level spread under which a patch is flat (a blank wall, a black frame): template matching
# there finds nothing meaningful.
FLAT = 2.0
# A face is looked for within a reach that grows with the time since it was last seen, up to three
# frames' worth at 30 frames/s: when only every third frame is analysed, faces move three times as far.
FRAME_SECONDS = 1 / 30
MAX_REACH = 3.0


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
    last_detected: float                 # time (s) at which the detector last confirmed the face
    hits: int = 1                        # frames on which the detector found it
    last_seen: float = 0.0               # time (s) at which it was last located, by either means
    source: Optional[str] = DETECTED     # how it was located in the latest frame: DETECTED, TRACKED, None
    template: Optional[np.ndarray] = field(default=None, repr=False)


Locate = Callable[[np.ndarray, Box, float], Optional[Box]]


class FaceTracker:
    def __init__(self, hold_seconds: float = HOLD_SECONDS, min_iou: float = 0.3, max_centre_dist: float = 0.5,
                 duplicate_iou: float = 0.5, template_side: int = 32):
        self.hold_seconds = hold_seconds
        self.min_iou, self.max_centre_dist, self.duplicate_iou = min_iou, max_centre_dist, duplicate_iou
        self.template_side = template_side
        self.tracks: List[Track] = []
        self._next_id = 1

    @property
    def located(self) -> List[Track]:
        """The tracks located in the latest frame, in id order."""
        return [t for t in self.tracks if t.source is not None]

    def follow(self, gray: np.ndarray, t: float, locate: Optional[Locate] = None) -> List[int]:
        """Locate each known face in a new frame: ``locate(gray, box)`` (the detector near the box),
        else template matching while the hold lasts. Returns the ids of the tracks that ended."""
        ended = []
        for track in self.tracks:
            reach = min(MAX_REACH, max(1.0, (t - track.last_seen) / FRAME_SECONDS))
            found = locate(gray, track.box, reach) if locate is not None else None
            if found is not None:
                self._confirm(gray, track, found, t)
                continue
            if t - track.last_detected > self.hold_seconds:
                ended.append(track.id)
                continue
            held = track.hits >= 2 and track.template is not None
            found = self._search(gray, track, reach) if held else None
            track.source = TRACKED if found is not None else None
            if found is not None:
                track.box, track.last_seen = found, t
        self._remove(ended)
        return ended + self._merge_duplicates()

    def update(self, gray: np.ndarray, t: float, detections: Sequence[Box]) -> List[int]:
        """A full-frame scan of the same frame (call ``follow`` first): confirm the tracks it found,
        start a track for each new face. Returns the ids of the tracks that ended (duplicates)."""
        pairs = sorted(((iou(tr.box, d), -centre_distance(tr.box, d), ti, di)
                        for ti, tr in enumerate(self.tracks) for di, d in enumerate(detections)), reverse=True)
        used_t, used_d = set(), set()
        for ov, neg_dist, ti, di in pairs:
            if ti in used_t or di in used_d or (ov < self.min_iou and -neg_dist > self.max_centre_dist):
                continue
            used_t.add(ti)
            used_d.add(di)
            if self.tracks[ti].source != DETECTED:    # already found near its box: that box stays
                self._confirm(gray, self.tracks[ti], tuple(detections[di]), t)
        for di, det in enumerate(detections):
            if di not in used_d:
                self.tracks.append(Track(self._next_id, tuple(det), t, last_seen=t,
                                         template=self._template(gray, det)))
                self._next_id += 1
        return self._merge_duplicates()

    def clear(self) -> List[int]:
        """Forget every face (a shot cut); returns their ids. Ids keep counting up: none is reused."""
        ended = [t.id for t in self.tracks]
        self.tracks = []
        return ended

    def _confirm(self, gray: np.ndarray, track: Track, box: Box, t: float) -> None:
        track.box, track.source, track.last_detected, track.last_seen = box, DETECTED, t, t
        track.hits += 1
        track.template = self._template(gray, box)

    def _remove(self, ids: List[int]) -> None:
        if ids:
            self.tracks = [t for t in self.tracks if t.id not in ids]

    def _merge_duplicates(self) -> List[int]:
        """Two tracks on one face (a template drifting onto a neighbour's box, say): one ends, the one
        the detector confirmed, else the older, keeps the face."""
        ended = []
        ranked = sorted(self.located, key=lambda tr: (tr.source != DETECTED, tr.id))
        for i, keep in enumerate(ranked):
            if keep.id in ended:
                continue
            for other in ranked[i + 1:]:
                if other.id not in ended and iou(keep.box, other.box) > self.duplicate_iou:
                    ended.append(other.id)
        self._remove(ended)
        return ended

    def _template(self, gray: np.ndarray, box: Box) -> Optional[np.ndarray]:
        x, y, w, h = box
        patch = gray[max(y, 0):y + h, max(x, 0):x + w]
        if patch.size == 0:
            return None
        return cv2.resize(patch, (self.template_side, self.template_side), interpolation=cv2.INTER_AREA)

    def _search(self, gray: np.ndarray, track: Track, reach: float = 1.0) -> Optional[Box]:
        x, y, w, h = track.box
        s = self.template_side / max(w, 1)           # work at the template's scale: cheap
        pad = int(round(0.3 * w * reach))
        x0, y0 = max(x - pad, 0), max(y - pad, 0)
        x1, y1 = min(x + w + pad, gray.shape[1]), min(y + h + pad, gray.shape[0])
        if x1 - x0 < w or y1 - y0 < h:
            return None
        window = cv2.resize(gray[y0:y1, x0:x1], (max(round((x1 - x0) * s), self.template_side),
                                                 max(round((y1 - y0) * s), self.template_side)),
                            interpolation=cv2.INTER_AREA)
        if window.std() < FLAT or track.template.std() < FLAT:   # nothing to match: any place scores alike
            return None
        score = cv2.matchTemplate(window, track.template, cv2.TM_CCOEFF_NORMED)
        _, best, _, (bx, by) = cv2.minMaxLoc(score)
        if not best >= 0.5:                            # lost (occluded, gone) or a flat window (NaN)
            return None
        return (int(round(x0 + bx / s)), int(round(y0 + by / s)), w, h)
