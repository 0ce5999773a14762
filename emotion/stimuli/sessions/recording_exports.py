"""A recording's frames on the stimulus' time axis, as CSV or JSON: one row per analysed frame of the
followed face. A remote session's rows are its RecordingFrames; an uploaded recording's are read from
its analysis (the participant's face, recordings.participant_face, its time minus the offset, within
the stimulus): the same face the time course reads."""

from __future__ import annotations

from typing import Iterator

from django.http import JsonResponse
from django.utils.http import content_disposition_header
from django.utils.text import slugify

from emotion.ml import EMOTIONS
from emotion.ml.results import top_emotion
from emotion.research.exports.study import _csv_chunks as write_csv
from emotion.research.models import FrameResult
from emotion.web.streaming import stream

from ..models import Recording, RecordingFrame
from .recordings import participant_face

QUALITY = ("confidence", "reliable", "face_size", "sharpness", "brightness", "noise")
COLUMNS = ("time", *EMOTIONS, "top", "dominant", *QUALITY)
CHUNK = 2000


def rows(rec: Recording) -> Iterator[dict]:
    if rec.source == Recording.Source.REMOTE:
        fields = ["time", *EMOTIONS, "top", "dominant", *QUALITY]
        for values in (RecordingFrame.objects.filter(recording=rec).order_by("time").values_list(*fields)
                       .iterator(chunk_size=CHUNK)):
            yield dict(zip(fields, values))
        return
    yield from _upload_rows(rec)


def _upload_rows(rec: Recording) -> Iterator[dict]:
    """The participant's face in each analysed frame where it was found, as a remote session keeps it."""
    face = participant_face(rec.analysis)
    if face is None:
        return
    fields = ["time", *EMOTIONS, "dominant", *QUALITY]
    start, end = rec.offset, rec.offset + rec.stimulus.duration
    qs = (FrameResult.objects.filter(analysis_id=rec.analysis_id, face_id=face, time__gte=start, time__lte=end)
          .order_by("frame").values_list(*fields))
    for values in qs.iterator(chunk_size=CHUNK):
        yield _on_axis(dict(zip(fields, values)), rec.offset)


def _on_axis(row: dict, offset: float) -> dict:
    out = {c: row[c] for c in COLUMNS if c in row}
    out["time"] = round(row["time"] - offset, 4)
    out["top"] = top_emotion(row)
    return {c: out[c] for c in COLUMNS}


def _name(rec: Recording, ext: str) -> str:
    stem = slugify(rec.stimulus.title) or "stimulus"
    return f"{stem}-{rec.stimulus_id}-{slugify(rec.participant.code)}-{rec.pk}.{ext}"


def csv_chunks(rec: Recording) -> Iterator[str]:
    """The recording's CSV, spreadsheet-safe, in pieces: its download and the account's data zip."""
    return write_csv(rows(rec), COLUMNS)


def csv_response(request, rec: Recording):
    return stream(request, csv_chunks(rec), "text/csv; charset=utf-8", _name(rec, "csv"))


def json_response(rec: Recording, meta: dict) -> JsonResponse:
    res = JsonResponse({"recording": meta, "columns": list(COLUMNS), "frames": list(rows(rec))})
    res["Content-Disposition"] = content_disposition_header(False, _name(rec, "json"))
    return res
