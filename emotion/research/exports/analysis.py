"""Per-frame results out of the database as CSV or JSON, streamed: a long video has many thousands of
rows, and neither format needs them all in memory at once."""

from __future__ import annotations

import csv
import io
import json
from typing import Iterable, Iterator

from django.utils.text import slugify

from emotion.ml import EMOTIONS
from emotion.ml.export import safe_row
from emotion.ml.results import COLUMNS, STORED_COLUMNS, with_top
from emotion.web.streaming import stream

from ..models import Analysis, FrameResult

CHUNK = 2000


def result_rows(analysis: Analysis) -> Iterator[dict]:
    """The analysis' rows (results.COLUMNS): the stored fields, and ``top`` from their probabilities."""
    fields = list(STORED_COLUMNS)
    qs = FrameResult.objects.filter(analysis=analysis).order_by("frame", "face_id").values_list(*fields)
    for values in qs.iterator(chunk_size=CHUNK):
        yield with_top(dict(zip(fields, values)))


def _csv_lines(rows: Iterable[dict], extra: dict = None) -> Iterator[str]:
    columns = [*(extra or {}), *COLUMNS]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for i, row in enumerate(rows, 1):
        writer.writerow(safe_row({**(extra or {}), **row}))
        if i % 500 == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def csv_chunks(analyses: Iterable[Analysis], with_analysis_column: bool = False) -> Iterator[str]:
    """One CSV for one or several analyses (the admin exports several, with an analysis column)."""
    first = True
    for a in analyses:
        extra = {"analysis": a.pk} if with_analysis_column else None
        lines = _csv_lines(result_rows(a), extra)
        if not first:
            lines = _skip_header(lines)
        yield from lines
        first = False


def _skip_header(lines: Iterator[str]) -> Iterator[str]:
    head = next(lines)
    yield head.split("\n", 1)[1]
    yield from lines


def json_chunks(analysis: Analysis) -> Iterator[str]:
    head = {
        "analysis": analysis.pk, "title": analysis.title, "source": analysis.original_name, "kind": analysis.kind,
        "status": analysis.status, "model_version": analysis.model_version, "emotions": list(EMOTIONS),
        "columns": list(COLUMNS), "media": media_facts(analysis), "summary": analysis.summary,
    }
    text = json.dumps(head)
    yield text[:-1] + ', "results": ['
    for i, row in enumerate(result_rows(analysis)):
        yield ("," if i else "") + json.dumps(row)
    yield "]}\n"


def media_facts(a: Analysis) -> dict:
    return {"kind": a.kind, "format": a.media_format, "width": a.width, "height": a.height, "fps": a.fps,
            "frame_count": a.frame_count, "duration": a.duration, "size_bytes": a.size_bytes,
            "frame_step": a.frame_step, "original_name": a.original_name}


def download_name(analysis: Analysis, ext: str) -> str:
    stem = slugify(analysis.title or analysis.original_name.rsplit(".", 1)[0]) or "analysis"
    return f"{stem}-{analysis.pk}.{ext}"


def csv_response(request, analysis: Analysis):
    return stream(request, csv_chunks([analysis]), "text/csv; charset=utf-8", download_name(analysis, "csv"))


def json_response(request, analysis: Analysis):
    return stream(request, json_chunks(analysis), "application/json", download_name(analysis, "json"), attachment=False)
