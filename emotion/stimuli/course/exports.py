"""A stimulus' time course as tidy long CSVs, for pandas (``read_csv``) and R (``read.csv``) as they are,
and as safe in a spreadsheet as every CSV of the site (study_exports' writer):

- ``time-course.csv``: one row per participant x condition x bin x measure, where the participant has
  counted frames in the bin: ``participant, condition, <each participant variable>, bin_start, bin_end,
  measure, value, frames, baseline_corrected``;
- ``markers/means.csv``: one row per participant x condition x marker x measure: ``participant,
  condition, <variables>, marker, marker_start, marker_end, measure, value, frames, baseline_corrected``.

Rows go by condition whatever the page groups by: the participant's variables are columns, so any
grouping is one ``groupby`` away. ``value`` is the mean over the participant's counted frames there
(timecourse.py), minus their baseline where ``baseline_corrected``; ``frames`` the frames behind it.
"""

from __future__ import annotations

from emotion.research.exports.study import _csv_chunks, _name
from emotion.research.studies.variables import typed, values_by_participant
from emotion.web.streaming import stream

from .timecourse import bin_rows, marker_rows

BIN_COLUMNS = ("bin_start", "bin_end", "measure", "value", "frames", "baseline_corrected")
MARKER_COLUMNS = ("marker", "marker_start", "marker_end", "measure", "value", "frames", "baseline_corrected")
HEAD = ("participant", "condition")


def variable_columns(study, own: tuple) -> list:
    """(variable, its column): named as the variable, or ``variable_<name>`` where that is one of ours
    (a variable may be called ``marker`` or ``bin_start``; the research exports reserve only theirs)."""
    taken = {c.lower() for c in (*HEAD, *own)}
    return [(v, f"variable_{v.name}" if v.name.lower() in taken else v.name) for v in study.variables.all()]


def _rows(stimulus, prepared, rows, own: tuple):
    columns = variable_columns(stimulus.study, own)
    known = values_by_participant(stimulus.study)
    uncorrected = set(prepared.left_out["uncorrected"])

    def filled():
        for r in rows:
            mine = known.get(r["participant"], {})
            yield {"participant": r["participant"], "condition": r.pop("group"),
                   **{column: typed(v, mine.get(v.name)) for v, column in columns}, **r,
                   "baseline_corrected": prepared.baseline and r["participant"] not in uncorrected}

    return filled(), [*HEAD, *(c for _, c in columns), *own]


def _response(request, stimulus, chunks, columns, what: str):
    return stream(request, _csv_chunks(chunks, columns), "text/csv; charset=utf-8",
                  _name(stimulus.study, f"stimulus-{stimulus.pk}-{what}", "csv"))


def time_course_csv(request, stimulus, prepared):
    rows, columns = _rows(stimulus, prepared, bin_rows(prepared), BIN_COLUMNS)
    return _response(request, stimulus, rows, columns, "time-course")


def marker_means_csv(request, stimulus, prepared, markers: list):
    rows, columns = _rows(stimulus, prepared, marker_rows(prepared, markers), MARKER_COLUMNS)
    return _response(request, stimulus, rows, columns, "marker-means")
