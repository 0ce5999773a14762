"""Scoring a face tracker's per-frame boxes against ground truth (such as tests/data/hamilton_truth.json).

The truth lists every face box on every frame of a clip, in the framing of OpenCV's Haar frontal-face
cascade, with a stable ``person`` id and a ``scope``: ``"scored"`` faces must be found, ``"ignore"``
faces (profiles, faces under 40 px, mostly outside the frame, blurred background) may be found or not;
a box on one is neither a hit nor a false box. It also lists the shot cuts (the first frame of each
new shot). See tests/data/hamilton_truth.md for how the clip's truth was made.

``score_tracks`` compares a tracker's reported boxes, ``(frame, face_id, (x, y, w, h))``, on the frames
it analysed:

- recall: scored truth faces matched one-to-one (per frame, greedy by IoU) by a reported box with
  IoU >= 0.5;
- false boxes: reported boxes whose IoU with every truth face, scored or ignore, is below 0.3;
- id switches ("one id on two true faces"): for each reported id, the number of distinct truth persons
  it was matched to (one-to-one per frame, IoU >= 0.3, any scope) minus one, summed;
- fragmentations (informative): for each truth person, how often its matched reported id changes
  from one analysed frame where it is matched to the next;
- cuts: a found cut matches a true cut on the same frame, or on the first analysed frame at or after
  the true cut (the cut lies between the previous analysed frame and this one).

Pure Python (the IoU comes from ``tracking``); the result holds only ints, floats, lists, dicts and
None, so it can be written as JSON.
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from emotion.ml.tracking import iou

RECALL_IOU = 0.5     # a scored face counts as found by a box overlapping it this much (one-to-one)
MATCH_IOU = 0.3      # a box overlapping no truth face this much is a false box; also the identity match
SCOPES = ("scored", "ignore")


@dataclass(frozen=True)
class TruthFace:
    frame: int
    person: int
    box: tuple          # (x, y, w, h), full-frame pixels, Haar framing
    scope: str          # "scored" or "ignore"


@dataclass
class Truth:
    frames: int                      # number of frames in the clip (0 .. frames-1)
    cuts: List[int]                  # first frame of each new shot, ascending
    faces: List[TruthFace]
    meta: dict = field(default_factory=dict)   # the rest of the file: video, width, height, persons ...
    # built on the first on_frame call: change ``faces`` after that and the index is stale
    _by_frame: Dict[int, List[TruthFace]] = field(default=None, init=False, repr=False, compare=False)

    def on_frame(self, frame) -> List[TruthFace]:
        if self._by_frame is None:
            index: Dict[int, List[TruthFace]] = {}
            for f in self.faces:
                index.setdefault(f.frame, []).append(f)
            self._by_frame = index
        return list(self._by_frame.get(int(frame), ()))

    def shots(self) -> List[Tuple[int, int]]:
        """(first, last) frame of each shot, last inclusive."""
        starts = [0] + [c for c in self.cuts if 0 < c < self.frames]
        ends = [s - 1 for s in starts[1:]] + [self.frames - 1]
        return list(zip(starts, ends))


def load_truth(path) -> Truth:
    data = json.loads(Path(path).read_text())
    frames = int(data["frames"])
    cuts = sorted(int(c) for c in data.get("cuts", []))
    faces = []
    for f in data["faces"]:
        box = tuple(int(v) for v in f["box"])
        if len(box) != 4:
            raise ValueError(f"truth face {f!r}: a box is [x, y, w, h]")
        scope = f.get("scope", "scored")
        if scope not in SCOPES:
            raise ValueError(f"truth face {f!r}: scope must be one of {SCOPES}")
        faces.append(TruthFace(int(f["frame"]), int(f["person"]), box, scope))
    meta = {k: v for k, v in data.items() if k not in ("frames", "cuts", "faces")}
    return Truth(frames, cuts, faces, meta)


def _match(truth_faces: Sequence[TruthFace], boxes: Sequence[tuple]) -> List[Tuple[int, int, float]]:
    """One-to-one greedy matching by IoU, pairs with IoU >= MATCH_IOU: (truth index, box index, IoU).
    Pairs with IoU >= RECALL_IOU come out exactly as a matching at that threshold would give them,
    since greedy takes the pairs in descending IoU."""
    pairs = sorted(((iou(t.box, b), ti, bi) for ti, t in enumerate(truth_faces) for bi, b in enumerate(boxes)),
                   key=lambda p: (-p[0], p[1], p[2]))
    used_t, used_b, out = set(), set(), []
    for ov, ti, bi in pairs:
        if ov < MATCH_IOU:
            break
        if ti in used_t or bi in used_b:
            continue
        used_t.add(ti)
        used_b.add(bi)
        out.append((ti, bi, ov))
    return out


def _ratio(num: int, den: int) -> Optional[float]:
    return num / den if den else None


def _check_box(box) -> tuple:
    b = tuple(float(v) for v in box)
    if len(b) != 4 or b[2] <= 0 or b[3] <= 0:
        raise ValueError(f"a reported box is (x, y, w, h) with w, h > 0, got {box!r}")
    return b


def score_tracks(truth: Truth, reported: Iterable[Tuple[int, int, tuple]], frames: Optional[Iterable[int]] = None,
                 cuts_found: Optional[Iterable[int]] = None) -> dict:
    """Score reported boxes ``(frame, face_id, (x, y, w, h))`` against ``truth`` on the analysed
    ``frames`` (default: every frame). Boxes on frames that were not analysed are left out.

    Returns a JSON-serialisable dict: ``analysed_frames``, ``scored_faces``, ``recalled``, ``recall``,
    ``reported_boxes``, ``false_boxes``, ``false_box_rate``, ``id_switches``, ``fragmentations``,
    ``per_shot`` (``start``, ``end`` inclusive, and the same counts for the shot's analysed frames)
    and, when ``cuts_found`` is given, ``cuts_true``, ``cuts_found``, ``cuts_missed``, ``false_cuts``.
    A ratio whose denominator is 0 is None (a shot with no scored face has no recall)."""
    if frames is None:
        analysed = list(range(truth.frames))
    else:
        analysed = sorted({int(f) for f in frames})
        bad = [f for f in analysed if not 0 <= f < truth.frames]
        if bad:
            raise ValueError(f"analysed frames outside the clip's 0..{truth.frames - 1}: {bad[:5]}")
    analysed_set = set(analysed)

    by_frame: Dict[int, List[Tuple[int, tuple]]] = {}
    for frame, face_id, box in reported:
        frame = int(frame)
        if frame in analysed_set:
            by_frame.setdefault(frame, []).append((int(face_id), _check_box(box)))

    shots = truth.shots()
    shot_starts = [s for s, _ in shots]
    per_shot = [dict(start=s, end=e, scored_faces=0, recalled=0, reported_boxes=0, false_boxes=0) for s, e in shots]

    scored = recalled = n_reported = n_false = 0
    persons_of_id: Dict[int, set] = {}
    ids_of_person: Dict[int, List[int]] = {}      # matched reported id on each analysed frame, in order
    for frame in analysed:
        faces = truth.on_frame(frame)
        rep = by_frame.get(frame, [])
        boxes = [b for _, b in rep]
        shot = per_shot[bisect.bisect_right(shot_starts, frame) - 1]
        n_scored = sum(f.scope == "scored" for f in faces)
        matches = _match(faces, boxes)
        n_hit = sum(1 for ti, _, ov in matches if ov >= RECALL_IOU and faces[ti].scope == "scored")
        n_fp = sum(1 for b in boxes if all(iou(f.box, b) < MATCH_IOU for f in faces))
        for ti, bi, _ in matches:
            face_id, person = rep[bi][0], faces[ti].person
            persons_of_id.setdefault(face_id, set()).add(person)
            ids_of_person.setdefault(person, []).append(face_id)
        scored += n_scored
        recalled += n_hit
        n_reported += len(boxes)
        n_false += n_fp
        shot["scored_faces"] += n_scored
        shot["recalled"] += n_hit
        shot["reported_boxes"] += len(boxes)
        shot["false_boxes"] += n_fp

    for shot in per_shot:
        shot["recall"] = _ratio(shot["recalled"], shot["scored_faces"])
        shot["false_box_rate"] = _ratio(shot["false_boxes"], shot["reported_boxes"])

    result = dict(
        analysed_frames=len(analysed),
        scored_faces=scored,
        recalled=recalled,
        recall=_ratio(recalled, scored),
        reported_boxes=n_reported,
        false_boxes=n_false,
        false_box_rate=_ratio(n_false, n_reported),
        id_switches=sum(len(p) - 1 for p in persons_of_id.values()),
        fragmentations=sum(sum(a != b for a, b in zip(ids, ids[1:])) for ids in ids_of_person.values()),
        per_shot=per_shot,
    )
    if cuts_found is not None:
        result.update(_score_cuts(truth.cuts, analysed, cuts_found))
    return result


def _score_cuts(true_cuts: Sequence[int], analysed: Sequence[int], cuts_found: Iterable[int]) -> dict:
    """A true cut is visible when an analysed frame lies before it and one at or after it; it is
    found by a reported cut on its own frame or on the first analysed frame at or after it."""
    found = sorted({int(c) for c in cuts_found})
    visible = []
    for c in true_cuts:
        i = bisect.bisect_left(analysed, c)           # first analysed frame >= c
        if 0 < i < len(analysed):
            visible.append((c, analysed[i]))
    unmatched = set(found)
    missed = []
    for c, first_after in visible:
        hit = next((f for f in (c, first_after) if f in unmatched), None)
        if hit is None:
            missed.append(c)
        else:
            unmatched.discard(hit)
    return dict(cuts_true=[c for c, _ in visible], cuts_found=found, cuts_missed=missed,
                false_cuts=sorted(unmatched))
