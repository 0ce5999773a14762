"""Per-frame, per-face records as flat rows: one column per emotion, for CSV and JSON exports."""

from __future__ import annotations

import csv
import io
from typing import Iterable, List

from .engine import FrameRecord
from .labels import EMOTIONS

COLUMNS = ("frame", "time", "face_id", "x", "y", "w", "h", *EMOTIONS, "dominant", "model_version")


def record_row(rec: FrameRecord, model_version: str) -> dict:
    x, y, w, h = (int(v) for v in rec.face.box)
    row = {"frame": rec.frame, "time": round(rec.time, 4), "face_id": rec.face.face_id, "x": x, "y": y, "w": w, "h": h}
    row.update({e: round(float(p), 5) for e, p in zip(EMOTIONS, rec.face.probs)})
    row.update({"dominant": rec.face.dominant, "model_version": model_version})
    return row


def rows_to_csv(rows: Iterable[dict]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def rows_to_table(rows: List[dict]) -> str:
    head = f"{'frame':>6} {'time':>8} {'face':>4} {'box':>20}  {'dominant':9} " + " ".join(f"{e[:5]:>5}" for e in EMOTIONS)
    lines = [head]
    for r in rows:
        box = f"{r['x']},{r['y']},{r['w']},{r['h']}"
        probs = " ".join(f"{r[e]:5.2f}" for e in EMOTIONS)
        lines.append(f"{r['frame']:>6} {r['time']:>8.3f} {r['face_id']:>4} {box:>20}  {r['dominant']:9} {probs}")
    return "\n".join(lines)
