"""The per-participant values as a tidy long CSV, for R (``read.csv``) and pandas (``read_csv``) as
they are: one row per participant × condition × measure, one value per row, the participant's
variables repeated on each row so that any of them can group or filter without a join.

Columns: ``participant, condition, <each variable, by name>, measure, value, frames``. ``condition``
is empty for analyses without one; a variable's cell is empty where the participant has no value, and
a number variable's holds a number, so both tools read that column as numbers. ``frames``: the
reliable face-frames the value is the mean of. The values are those the statistics test
(study_inference.py): the same measures, baseline correction and filters.
"""

from __future__ import annotations

from typing import Iterator

from emotion.web.streaming import stream

from ..stats.study_inference import choose, measures_for, participant_values
from ..studies.variables import typed, values_by_participant
from .study import _csv_chunks, _name

PLACES = 6


def columns(study) -> list:
    return ["participant", "condition", *study.variables.values_list("name", flat=True), "measure", "value",
            "frames"]


def tidy_rows(study, analyses, baseline: bool = False, filters: tuple = ()) -> Iterator[dict]:
    values, _ = participant_values(analyses, baseline)
    kept, _, _ = choose(study, values, None, list(filters))
    variables = list(study.variables.all())
    known = values_by_participant(study)
    for v, _ in kept:
        mine = known.get(v.participant, {})
        head = {"participant": v.participant, "condition": v.condition,
                **{var.name: typed(var, mine.get(var.name)) for var in variables}}
        for m in measures_for(baseline):
            yield {**head, "measure": m, "value": round(v.measures[m], PLACES), "frames": v.frames}


def tidy_csv_response(request, study, analyses, baseline: bool = False, filters: tuple = ()):
    # the figures are made before streaming starts: a bad filter is a 400, not a cut-off file
    rows = list(tidy_rows(study, analyses, baseline, filters))
    return stream(request, _csv_chunks(rows, columns(study)), "text/csv; charset=utf-8",
                  _name(study, "participant-means", "csv"))
