"""How far the engine agrees with a researcher's own coding of a video (hand labels).

The hand labels come as CSV with a header, one of two forms, each with an optional ``face_id``
column (columns in any order, names and labels in any case):

    start,end,label          segments in seconds: a result counts when start <= time < end
    frame,label              single frames, by their index in the video

Each labelled result is compared with our ``dominant`` (the label shown, see emotion/ml/results.py).
A label with a ``face_id`` is compared with that face; one without, with the frame's main face: the
largest box (ties: the lower face id), the person nearest the camera, whom a coder of a one-person
recording codes. Reliability does not choose the face: were the main face unreliable, a face in the
background would otherwise be judged in its place. Unreliable results are left out, as everywhere
else in the figures, and counted.

Figures: ``n`` results compared, accuracy, Cohen's kappa (agreement beyond what the two label
frequencies give by chance), macro F1 (the mean over the classes that either side used), and the
7x7 confusion, rows the hand labels and columns ours, in the engine's label order (``labels``).
"""

from __future__ import annotations

import bisect
import csv
import io
import math
from collections import defaultdict
from typing import Optional

from emotion.ml import EMOTIONS
from emotion.ml.results import counts

from ..models import FrameResult, HandLabels

MAX_BYTES = 5 * 1024 * 1024
MAX_ERRORS = 10          # enough to fix a file in one go without a wall of text
SEGMENT_COLUMNS = {"start", "end", "label"}
FRAME_COLUMNS = {"frame", "label"}
FACE_RULE = ("a label without face_id is compared with the frame's largest face; unreliable results "
             "are left out")


class LabelFileError(ValueError):
    """A hand-label file that cannot be used; ``errors`` name their lines."""

    def __init__(self, errors: list):
        self.errors = errors
        super().__init__("; ".join(errors))


def _next_row(reader):
    """The next row, None at the end; a row the csv module cannot read (a field over its size limit,
    say) is the file's fault, said with its line, not a server error."""
    try:
        return next(reader)
    except StopIteration:
        return None
    except csv.Error as exc:
        raise LabelFileError([f"line {reader.line_num}: not a readable CSV row ({exc})."]) from None


def parse(data: bytes) -> list:
    """The rows of a hand-label file as segments (see HandLabels.segments), or LabelFileError with
    every problem found (up to MAX_ERRORS), each naming its line."""
    _refuse_size(len(data))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise LabelFileError([f"line {line}: not UTF-8 text; save the file as UTF-8 CSV."]) from None
    if not text.strip():
        raise LabelFileError(["The file is empty: it needs a header (start,end,label or frame,label) and rows."])
    reader = csv.reader(io.StringIO(text, newline=""))
    header = _next_row(reader)
    names = [h.strip().lower() for h in header]
    kind = _kind(names)
    errors, segments, placed = [], [], []
    while (cells := _next_row(reader)) is not None:
        if not any(c.strip() for c in cells):
            continue                                    # blank lines are allowed
        if len(errors) >= MAX_ERRORS:
            errors.append((math.inf, "… and maybe more; fix these first."))
            break
        line = reader.line_num
        try:
            place = _place(kind, names, cells, line)
            placed.append(place)                         # a row with a bad label still overlaps others
            segments.append({**place, "label": _label(dict(zip(names, cells)))})
        except ValueError as exc:
            errors.append((line, f"line {line}: {exc}"))
    # every fault at once, in the file's order: an overlap is reported beside a misspelt label
    errors = [text for _, text in sorted(errors + _overlaps(placed), key=lambda e: e[0])]
    if errors:
        raise LabelFileError(errors[:MAX_ERRORS + 1])
    if not segments:
        raise LabelFileError(["The file has a header but no labels."])
    return segments


def _refuse_size(size: int) -> None:
    if size > MAX_BYTES:
        raise LabelFileError([f"The file is {size / 1024 / 1024:.1f} MB; hand labels may be at most "
                              f"{MAX_BYTES // 1024 // 1024} MB."])


def _kind(names: list) -> str:
    given = set(names) - {"face_id"}
    if len(set(names)) != len(names):
        raise LabelFileError([f"line 1: a column is named twice ({','.join(names)})."])
    if given == SEGMENT_COLUMNS:
        return "segments"
    if given == FRAME_COLUMNS:
        return "frames"
    raise LabelFileError([f"line 1: the header must be start,end,label or frame,label (with an optional face_id "
                          f"column), not {','.join(names) or 'empty'}."])


def _number(value: str, what: str) -> float:
    try:
        x = float(value)
    except ValueError:
        raise ValueError(f'{what} "{value.strip()}" is not a number') from None
    if not math.isfinite(x) or x < 0:
        raise ValueError(f'{what} "{value.strip()}" must be a number of seconds, 0 or more')
    return x


def _whole(value: str, what: str) -> int:
    text = value.strip()
    if not text.isdigit():
        raise ValueError(f'{what} "{text}" is not a whole number, 0 or more')
    return int(text)


def _place(kind: str, names: list, cells: list, line: int) -> dict:
    """Where a row applies: its seconds or frame, and its face when it names one."""
    if len(cells) != len(names):
        raise ValueError(f"{len(cells)} values where the header has {len(names)} columns")
    cell = dict(zip(names, cells))
    if kind == "segments":
        start, end = _number(cell["start"], "start"), _number(cell["end"], "end")
        if end <= start:
            raise ValueError(f"end {cell['end'].strip()} is not after start {cell['start'].strip()}")
        out = {"start": start, "end": end}
    else:
        out = {"frame": _whole(cell["frame"], "frame")}
    if cell.get("face_id", "").strip():
        out["face_id"] = _whole(cell["face_id"], "face_id")
    out["line"] = line
    return out


def _label(cell: dict) -> str:
    label = cell["label"].strip().lower()
    if label not in EMOTIONS:
        raise ValueError(f'"{cell["label"].strip()}" is not one of {", ".join(EMOTIONS)}')
    return label


def _overlaps(segments: list) -> list:
    """A frame (of one face) labelled twice has no single truth to compare with: refused. Returns
    (line, message) pairs."""
    errors = []
    by_face = defaultdict(list)
    for s in segments:
        by_face[s.get("face_id")].append(s)
    for rows in by_face.values():
        if "frame" in rows[0]:
            seen = {}
            for s in rows:
                if s["frame"] in seen:
                    errors.append((s["line"], f"line {s['line']}: frame {s['frame']} is labelled already on line "
                                              f"{seen[s['frame']]}"))
                seen.setdefault(s["frame"], s["line"])
        else:
            rows = sorted(rows, key=lambda s: s["start"])
            for a, b in zip(rows, rows[1:]):
                if b["start"] < a["end"]:
                    later, earlier = (b, a) if b["line"] > a["line"] else (a, b)
                    errors.append((later["line"], f"line {later['line']}: {later['start']:g}–{later['end']:g} s "
                                                  f"overlaps {earlier['start']:g}–{earlier['end']:g} s on line "
                                                  f"{earlier['line']}"))
    return errors


def _main_faces(results: list) -> dict:
    """frame -> the result a label without face_id is compared with (see the module's docstring)."""
    best = {}
    for r in results:
        key = (r["w"] * r["h"], -r["face_id"])
        if r["frame"] not in best or key > best[r["frame"]][0]:
            best[r["frame"]] = (key, r)
    return {f: r for f, (_, r) in best.items()}


def match(segments: list, results: list) -> tuple:
    """(pairs of (hand label, our label), results left out as unreliable, labels that found no result)."""
    by_face = {(r["frame"], r["face_id"]): r for r in results}
    main = _main_faces(results)
    frames_with_faces = {r["frame"] for r in results}
    times = sorted({(r["time"], r["frame"]) for r in results})
    pairs, unreliable, unmatched = [], 0, 0
    for s in segments:
        if "frame" in s:
            frames = [s["frame"]] if s["frame"] in frames_with_faces else []
        else:
            lo = bisect.bisect_left(times, (s["start"], -1))
            hi = bisect.bisect_left(times, (s["end"], -1))
            frames = [f for _, f in times[lo:hi]]
        hit = False
        for f in frames:
            r = by_face.get((f, s["face_id"])) if "face_id" in s else main[f]
            if r is None:                            # that face is not on this frame
                continue
            hit = True
            if not counts(r["reliable"]):
                unreliable += 1
                continue
            pairs.append((s["label"], r["dominant"]))
        unmatched += not hit
    return pairs, unreliable, unmatched


def scores(pairs: list) -> dict:
    """n, accuracy, macro F1, Cohen's kappa and the confusion of (hand, ours) pairs."""
    k = len(EMOTIONS)
    index = {e: i for i, e in enumerate(EMOTIONS)}
    confusion = [[0] * k for _ in range(k)]
    for hand, ours in pairs:
        confusion[index[hand]][index[ours]] += 1
    n = len(pairs)
    out = {"labels": list(EMOTIONS), "n": n, "confusion": confusion, "accuracy": None, "macro_f1": None,
           "kappa": None, "per_class": {}}
    if not n:
        return out
    rows = [sum(confusion[i]) for i in range(k)]
    cols = [sum(confusion[i][j] for i in range(k)) for j in range(k)]
    agree = sum(confusion[i][i] for i in range(k))
    f1s = []
    for i, e in enumerate(EMOTIONS):
        if not rows[i] and not cols[i]:
            continue
        f1 = 2 * confusion[i][i] / (rows[i] + cols[i])
        f1s.append(f1)
        out["per_class"][e] = {"hand": rows[i], "ours": cols[i], "agree": confusion[i][i], "f1": round(f1, 4)}
    p_observed = agree / n
    p_chance = sum(rows[i] * cols[i] for i in range(k)) / (n * n)
    out["accuracy"] = round(p_observed, 4)
    out["macro_f1"] = round(sum(f1s) / len(f1s), 4)
    # both sides used one and the same class throughout: chance explains everything, kappa is undefined
    out["kappa"] = None if p_chance == 1 else round((p_observed - p_chance) / (1 - p_chance), 4)
    return out


def agreement(analysis, segments: list) -> dict:
    """The figures for ``analysis``' stored results against ``segments`` (from ``parse``)."""
    fields = ("frame", "time", "face_id", "w", "h", "dominant", "reliable")
    results = [dict(zip(fields, v)) for v in
               FrameResult.objects.filter(analysis=analysis).order_by("frame", "face_id").values_list(*fields)
               .iterator(chunk_size=2000)]
    pairs, unreliable, unmatched = match(segments, results)
    return {**scores(pairs), "left_out_unreliable": unreliable, "labels_without_results": unmatched,
            "label_rows": len(segments), "face_rule": FACE_RULE, "run": str(analysis.run_id),
            "model_version": analysis.model_version}


class NotFinished(Exception):
    pass


def store(analysis, user, upload) -> dict:
    """Parse an uploaded hand-label file, compare, and keep both (the last file replaces the one
    before). Raises LabelFileError, or NotFinished while the analysis is queued or running."""
    if not analysis.finished:
        raise NotFinished("This analysis is still queued or running; upload hand labels once it is done.")
    _refuse_size(upload.size)                      # before reading it
    segments = parse(upload.read())
    figures = agreement(analysis, segments)
    HandLabels.objects.update_or_create(analysis=analysis, defaults={
        "segments": segments, "agreement": figures, "uploaded_by": user, "original_name": upload.name[:255]})
    return figures


def current(hand_labels) -> Optional[dict]:
    """The stored agreement, computed again if the analysis was re-run since (its results changed).
    While a re-run is under way the old results still stand: figures on them are shown, not stored."""
    analysis = hand_labels.analysis
    stored = hand_labels.agreement or {}
    if stored.get("run") == str(analysis.run_id) and analysis.status == analysis.Status.DONE:
        return stored
    fresh = agreement(analysis, hand_labels.segments)
    if analysis.status == analysis.Status.DONE:
        hand_labels.agreement = fresh
        hand_labels.save(update_fields=["agreement"])
    return fresh
