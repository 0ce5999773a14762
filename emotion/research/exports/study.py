"""A study's results for analysis elsewhere (pandas, R, a spreadsheet), streamed like one analysis'
(exports/analysis.py): a study of long videos has millions of rows.

- results CSV: one row per face per analysed frame of every finished analysis, with the analysis'
  study, participant, condition and title in front and the valence beside the probabilities;
- summary CSV: one row per participant and condition (statistics.py), with the baseline-corrected
  means beside the plain ones (empty for a participant without a baseline);
- results JSON: the study, its statistics and the rows of the results CSV as objects.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Iterable, Iterator

from django.db.models import F
from django.utils.text import slugify

from emotion.ml import EMOTIONS
from emotion.ml.export import safe_row
from emotion.ml.results import QUALITY_FIELDS
from emotion.ml.valence import valence
from emotion.web.streaming import stream

from ..stats.statistics import counted, study_statistics
from .analysis import result_rows

ANALYSIS_COLUMNS = ("study", "participant", "condition", "analysis", "title", "is_baseline")
RESULT_COLUMNS = (*ANALYSIS_COLUMNS, "frame", "time", "face_id", "x", "y", "w", "h", *EMOTIONS, "dominant",
                  "top", "valence", *QUALITY_FIELDS, "model_version")
SUMMARY_COLUMNS = ("study", "participant", "condition", "analyses", "frames", "frames_left_out",
                   *(f"mean_{e}" for e in EMOTIONS), *(f"share_{e}" for e in EMOTIONS), "valence",
                   "baseline_analysis", *(f"corrected_mean_{e}" for e in EMOTIONS), "corrected_valence")
LINES_PER_CHUNK = 500


def ordered(analyses):
    """Finished analyses by participant, condition, then upload (unassigned ones last)."""
    return counted(analyses).select_related("participant", "condition").order_by(
        F("participant__code").asc(nulls_last=True), F("condition__name").asc(nulls_last=True), "created_at", "pk")


def study_rows(study, analyses) -> Iterator[dict]:
    for a in list(ordered(analyses)):         # a few hundred at most; their rows are what streams
        head = {"study": study.pk, "participant": a.participant.code if a.participant else None,
                "condition": a.condition.name if a.condition else None, "analysis": a.pk, "title": a.title,
                "is_baseline": a.is_baseline}
        for row in result_rows(a):
            # probabilities are stored to 5 places; so is the valence made from them
            yield {**head, **row, "valence": round(valence(row), 5)}


def _csv_chunks(rows: Iterable[dict], columns) -> Iterator[str]:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for i, row in enumerate(rows, 1):
        writer.writerow(safe_row(row))
        if i % LINES_PER_CHUNK == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def summary_rows(study, analyses) -> Iterator[dict]:
    stats = study_statistics(study, analyses, baseline=True)
    for r in stats["rows"]:
        corrected = r["corrected"] or {}
        yield {"study": study.pk, "participant": r["participant"], "condition": r["condition"],
               "analyses": r["analyses"], "frames": r["frames"], "frames_left_out": r["frames_left_out"],
               **{f"mean_{e}": (r["mean"] or {}).get(e) for e in EMOTIONS},
               **{f"share_{e}": (r["share"] or {}).get(e) for e in EMOTIONS}, "valence": r["valence"],
               "baseline_analysis": corrected.get("baseline_analysis"),
               **{f"corrected_mean_{e}": corrected.get("mean", {}).get(e) for e in EMOTIONS},
               "corrected_valence": corrected.get("valence")}


def json_chunks(study, analyses) -> Iterator[str]:
    head = {"study": study.pk, "name": study.name, "emotions": list(EMOTIONS), "columns": list(RESULT_COLUMNS),
            "summary": study_statistics(study, analyses, baseline=True)}
    text = json.dumps(head)
    yield text[:-1] + ', "results": ['
    for i, row in enumerate(study_rows(study, analyses)):
        yield ("," if i else "") + json.dumps(row)
    yield "]}\n"


def _name(study, what: str, ext: str) -> str:
    return f"{slugify(study.name) or 'study'}-{study.pk}-{what}.{ext}"


def results_csv_response(request, study, analyses):
    return stream(request, _csv_chunks(study_rows(study, analyses), RESULT_COLUMNS), "text/csv; charset=utf-8",
                  _name(study, "results", "csv"))


def summary_csv_response(request, study, analyses):
    return stream(request, _csv_chunks(summary_rows(study, analyses), SUMMARY_COLUMNS), "text/csv; charset=utf-8",
                  _name(study, "summary", "csv"))


def results_json_response(request, study, analyses):
    return stream(request, json_chunks(study, analyses), "application/json", _name(study, "results", "json"))
