"""What a timeline adds up to: the share of time in each emotion, overall and per tracked face."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Iterable

from emotion.ml import EMOTIONS


def summarise(rows: Iterable[dict], frames_analysed: int) -> dict:
    """``rows`` are export rows (frame, face_id, the 7 probabilities, dominant)."""
    overall = Counter()
    mean = dict.fromkeys(EMOTIONS, 0.0)
    per_face = defaultdict(lambda: {"frames": 0, "first": None, "last": None, "dominant": Counter()})
    frames_with_faces = set()
    n = 0
    for r in rows:
        n += 1
        overall[r["dominant"]] += 1
        for e in EMOTIONS:
            mean[e] += r[e]
        face = per_face[r["face_id"]]
        face["frames"] += 1
        face["first"] = r["time"] if face["first"] is None else face["first"]
        face["last"] = r["time"]
        face["dominant"][r["dominant"]] += 1
        frames_with_faces.add(r["frame"])

    def shares(counter: Counter, total: int) -> dict:
        return {e: round(counter[e] / total, 4) if total else 0.0 for e in EMOTIONS}

    return {
        "frames_analysed": frames_analysed,
        "frames_with_faces": len(frames_with_faces),
        "faces": len(per_face),
        "results": n,
        # each face-frame counts once: two faces on screen count twice
        "share_of_time": shares(overall, n),
        "mean_probability": {e: round(v / n, 4) if n else 0.0 for e, v in mean.items()},
        "per_face": [
            {"face_id": fid, "frames": f["frames"], "first_seen": f["first"], "last_seen": f["last"],
             "share_of_time": shares(f["dominant"], f["frames"])}
            for fid, f in sorted(per_face.items())
        ],
    }
