"""What a timeline adds up to: the share of time in each emotion, overall and per tracked face.

Only reliable results count (emotion/ml/quality.py); how many were left out is said beside the
figures. Results stored before the engine measured reliability count as reliable.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Iterable

from emotion.ml import EMOTIONS
from emotion.ml.results import counts as counts_result


def counts(row: dict) -> bool:
    return counts_result(row.get("reliable"))


def summarise(rows: Iterable[dict], frames_analysed: int) -> dict:
    """``rows`` are result rows (results.COLUMNS)."""
    overall = Counter()
    mean = dict.fromkeys(EMOTIONS, 0.0)
    per_face = defaultdict(lambda: {"frames": 0, "reliable": 0, "first": None, "last": None, "dominant": Counter()})
    frames_with_faces = set()
    n = used = 0
    for r in rows:
        n += 1
        face = per_face[r["face_id"]]
        face["frames"] += 1
        face["first"] = r["time"] if face["first"] is None else face["first"]
        face["last"] = r["time"]
        frames_with_faces.add(r["frame"])
        if not counts(r):
            continue
        used += 1
        face["reliable"] += 1
        overall[r["dominant"]] += 1
        face["dominant"][r["dominant"]] += 1
        for e in EMOTIONS:
            mean[e] += r[e]

    def shares(counter: Counter, total: int) -> dict:
        return {e: round(counter[e] / total, 4) if total else 0.0 for e in EMOTIONS}

    return {
        "frames_analysed": frames_analysed,
        "frames_with_faces": len(frames_with_faces),
        "faces": len(per_face),
        "results": n,
        "reliable_results": used,
        "results_left_out": n - used,
        # each reliable face-frame counts once: two faces on screen count twice
        "share_of_time": shares(overall, used),
        "mean_probability": {e: round(v / used, 4) if used else 0.0 for e, v in mean.items()},
        "per_face": [
            {"face_id": fid, "frames": f["frames"], "reliable_frames": f["reliable"], "first_seen": f["first"],
             "last_seen": f["last"], "share_of_time": shares(f["dominant"], f["reliable"])}
            for fid, f in sorted(per_face.items())
        ],
    }


def faces_to_choose(summary: dict) -> list:
    """The faces of the timeline's chooser, the main one first (most reliable frames, then most frames):
    opening on face #1 showed a face seen for half a second. Each says how much of the video it is in."""
    analysed = summary.get("frames_analysed") or 0
    faces = sorted(summary.get("per_face", []), key=lambda f: (-(f.get("reliable_frames") or 0), -f["frames"], f["face_id"]))
    return [{**f, "share": f["frames"] / analysed if analysed else None} for f in faces]
