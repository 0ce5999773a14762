"""Event markers: named spans of a stimulus, in seconds of stimulus time (0 at the first picture of a
video, as for analyses: its offset on a player's clock is Stimulus.video_offset).

One rule for every way in (the stimulus page's forms, the API, the CSV): a name of 1 to
MARKER_NAME_LENGTH characters, and 0 <= start <= end <= the stimulus' duration. The CSV
(``name,start,end``, a header, UTF-8) is all or nothing: every bad line is listed by its number and
nothing is stored until the whole file is clean; it replaces the stimulus' markers, so that a file
exported, edited and imported again is the new list. The export is spreadsheet-safe
(emotion/ml/export.py)."""

from __future__ import annotations

import csv
import io
import math
from typing import Iterable

from django.db import transaction

from emotion.ml.export import FORMULA_STARTS, safe_row
from emotion.web.badtext import bad_character

from ..models import MARKER_NAME_LENGTH, EventMarker, Stimulus

COLUMNS = ["name", "start", "end"]
MAX_BYTES = 1024 * 1024
MAX_MARKERS = 2000           # a marker every second of a half-hour video, with room to spare
MAX_ERRORS = 10              # enough to fix a file in one go without a wall of text
SLACK = 1e-6                 # an end typed as the duration printed (26.6) is not after 26.6000001


class MarkerRefused(ValueError):
    """A marker that cannot be stored; ``field`` names the input at fault (name, start or end)."""

    def __init__(self, message: str, field: str = None):
        super().__init__(message)
        self.field = field


class MarkerFileError(ValueError):
    """A marker file that cannot be used; ``errors`` name their lines."""

    def __init__(self, errors: list):
        self.errors = errors
        super().__init__("; ".join(errors))


def _seconds(raw, field: str) -> float:
    text = str(raw).strip() if raw is not None else ""
    if not text:
        raise MarkerRefused(f"The {field} is missing: a number of seconds.", field)
    try:
        value = float(text)
    except ValueError:
        raise MarkerRefused(f"The {field} “{text[:40]}” is not a number of seconds.", field) from None
    if not math.isfinite(value):
        raise MarkerRefused(f"The {field} “{text[:40]}” is not a number of seconds.", field)
    return round(value, 3)


def checked(stimulus: Stimulus, name, start, end) -> dict:
    """The marker's fields, clean, or MarkerRefused saying the first thing wrong with them."""
    name = str(name or "").strip()
    if not name:
        raise MarkerRefused("Give the marker a name.", "name")
    if len(name) > MARKER_NAME_LENGTH:
        raise MarkerRefused(f"The name is longer than {MARKER_NAME_LENGTH} characters.", "name")
    what = bad_character(name)
    if what:
        raise MarkerRefused(f"The name contains {what}; remove it and send again.", "name")
    start, end = _seconds(start, "start"), _seconds(end, "end")
    if start < 0:
        raise MarkerRefused(f"The start ({start:g} s) is before the stimulus begins (0 s).", "start")
    if end < start:
        raise MarkerRefused(f"The end ({end:g} s) is before the start ({start:g} s).", "end")
    if end > stimulus.duration + SLACK:
        raise MarkerRefused(f"The end ({end:g} s) is after the stimulus ends ({stimulus.duration:g} s).", "end")
    return {"name": name, "start": start, "end": end}


def add(stimulus: Stimulus, name, start, end) -> EventMarker:
    if stimulus.markers.count() >= MAX_MARKERS:
        raise MarkerRefused(f"A stimulus has at most {MAX_MARKERS} markers.")
    return EventMarker.objects.create(stimulus=stimulus, **checked(stimulus, name, start, end))


def change(marker: EventMarker, **fields) -> EventMarker:
    """Change some of name, start and end (the others kept), checked as a whole; any other field is
    refused, naming it (ignoring it would look like success)."""
    unknown = set(fields) - set(COLUMNS)
    if unknown:
        raise MarkerRefused(f"These cannot be changed: {', '.join(sorted(unknown))}.")
    values = {f: fields.get(f, getattr(marker, f)) for f in COLUMNS}
    for field, value in checked(marker.stimulus, **values).items():
        setattr(marker, field, value)
    marker.save(update_fields=COLUMNS)
    return marker


def replace(stimulus: Stimulus, markers: Iterable[dict]) -> list:
    """The stimulus' markers become ``markers`` (each a dict of name, start, end): every one is checked
    first, and a refusal names the marker by its place in the list (from 1); then nothing changed."""
    clean = []
    for i, m in enumerate(markers, 1):
        try:
            clean.append(checked(stimulus, m.get("name"), m.get("start"), m.get("end")))
        except MarkerRefused as exc:
            raise MarkerRefused(f"marker {i}: {exc}", exc.field) from None
    if len(clean) > MAX_MARKERS:
        raise MarkerRefused(f"A stimulus has at most {MAX_MARKERS} markers; {len(clean)} were sent.")
    with transaction.atomic():
        stimulus.markers.all().delete()
        return EventMarker.objects.bulk_create([EventMarker(stimulus=stimulus, **m) for m in clean])


# --- CSV ---------------------------------------------------------------------------------------------

def export_csv(stimulus: Stimulus) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(safe_row({"name": m.name, "start": m.start, "end": m.end}) for m in stimulus.markers.all())
    return buf.getvalue()


def _uninert(name: str) -> str:
    """A name as the export wrote it back to what it was: the apostrophe that kept a spreadsheet from
    reading "-intro" as a formula is not part of it."""
    return name[1:] if name.startswith("'") and name[1:].startswith(FORMULA_STARTS) else name


def parse_csv(stimulus: Stimulus, data: bytes) -> list:
    """The markers of a ``name,start,end`` file, or MarkerFileError listing every bad line by number."""
    if len(data) > MAX_BYTES:
        raise MarkerFileError([f"The file is {len(data) / 1024 / 1024:.1f} MB; a marker file may be at most "
                               f"{MAX_BYTES // 1024 // 1024} MB."])
    try:
        text = data.decode("utf-8-sig")          # a spreadsheet's byte-order mark is fine
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise MarkerFileError([f"line {line}: not UTF-8 text; save the file as UTF-8 CSV."]) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    rows, errors = [], []
    try:
        header = [h.strip().lower() for h in next(reader, [])]
        if header != COLUMNS:
            raise MarkerFileError([f"line 1: the header must be name,start,end, not {','.join(header) or 'empty'}."])
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue                                  # blank lines are allowed
            line = reader.line_num
            try:
                if len(cells) != len(COLUMNS):
                    raise MarkerRefused(f"{len(cells)} values where the header has {len(COLUMNS)} columns")
                name, start, end = cells
                rows.append(checked(stimulus, _uninert(name.strip()), start, end))
            except MarkerRefused as exc:
                errors.append(f"line {line}: {exc}")
    except csv.Error as exc:                              # a row the csv module cannot read: the file's fault
        errors.append(f"line {reader.line_num}: not a readable CSV row ({exc}).")
    if errors:
        more = [f"… and {len(errors) - MAX_ERRORS} more lines; fix these first."] if len(errors) > MAX_ERRORS else []
        raise MarkerFileError(errors[:MAX_ERRORS] + more)
    if len(rows) > MAX_MARKERS:
        raise MarkerFileError([f"{len(rows)} markers; a stimulus has at most {MAX_MARKERS}."])
    return rows


def import_csv(stimulus: Stimulus, data: bytes) -> list:
    """Parse the file and, when it is clean, make its markers the stimulus' markers."""
    return replace(stimulus, parse_csv(stimulus, data))
