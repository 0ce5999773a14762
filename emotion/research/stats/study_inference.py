"""A study's figures with the participant as the unit: one value per participant, condition and measure,
then the mean of each condition (or condition × group) with its 95% interval, and a test between each
two conditions or groups (inference.py says which test and how).

A participant's value in a condition is the mean over their reliable face-frames in it, the same sums
as the summary's rows (statistics.group_sums): every analysis of theirs in that condition pooled.
Measures: the mean probability of each emotion (named by the emotion), the mean valence, and the
share of the participant's face-frames with each dominant label (``share_<emotion>``). Baseline clips are the
reference, not a condition: they are left out here, and with ``baseline`` each value is the
participant's minus their baseline clip's (participants without one are left out, and listed); shares
have no baseline to subtract and are left out then.
Analyses without a participant cannot be matched to anyone and are left out; analyses without a
condition form the condition ``None``, which has means and group tests but is never compared with a
named condition.

Options: ``filters`` keep the participants whose variable has a value (a category: that value; a
number: that number, or a range ``lo..hi``, either end open); ``split`` (a category variable) makes
groups of its values. Between conditions the test is paired on the participants who saw both when
any did, Welch's otherwise; between groups (always different participants) it is Welch's.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Optional

from django.db.models import QuerySet

from emotion.ml import EMOTIONS

from ..models import Variable
from ..studies.variables import number, values_by_participant
from . import inference
from .statistics import _order, baselines, group_sums

SHARES = tuple(f"share_{e}" for e in EMOTIONS)
MEASURES = (*EMOTIONS, "valence", *SHARES)
# a share of time has no baseline to subtract (as in statistics.py): corrected figures go without them
CORRECTED_MEASURES = (*EMOTIONS, "valence")


def measures_for(baseline: bool) -> tuple:
    return CORRECTED_MEASURES if baseline else MEASURES


class BadOption(ValueError):
    """A split or filter that does not fit the study's variables, in words for the user; ``field`` is
    the query parameter."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


@dataclass
class Value:
    """One participant in one condition: their value of each measure and the face-frames behind it."""
    participant: str
    condition: Optional[str]
    frames: int
    measures: dict


def participant_values(analyses: QuerySet, baseline: bool = False) -> tuple:
    """([Value], left_out) for ``analyses`` (the study's, as the user may see them): ``left_out`` lists
    the participants without a baseline (when ``baseline``)."""
    base = baselines(analyses) if baseline else {}
    out, without_baseline = [], set()
    for (code, condition), (_, sums) in sorted(group_sums(analyses.exclude(is_baseline=True)).items(),
                                               key=lambda kv: _order(kv[0])):
        if code is None or not sums.frames:
            continue                    # no one to match, or nothing reliable to average
        share = sums.share()
        measures = {**sums.mean(), "valence": sums.valence(), **{f"share_{e}": share[e] for e in EMOTIONS}}
        if baseline:
            b = base.get(code)
            if b is None:
                without_baseline.add(code)
                continue
            measures = {**{e: measures[e] - b.mean[e] for e in EMOTIONS}, "valence": measures["valence"] - b.valence}
        out.append(Value(code, condition, sums.frames, measures))
    return out, {"without_baseline": sorted(without_baseline)}


def parse_filter(variables: dict, text: str):
    """(variable, test of a stored value) for ``name:value`` or, for a number, ``name:lo..hi``."""
    name, sep, wanted = text.partition(":")
    variable = variables.get(name.strip().lower())
    if not sep or variable is None:
        raise BadOption("filter", f"“{text}”: write variable:value (variables: {', '.join(v.name for v in variables.values()) or 'none'}).")
    wanted = wanted.strip()
    if variable.kind == Variable.Kind.CATEGORY:
        return variable, lambda stored: stored == wanted
    lo, dots, hi = wanted.partition("..")
    try:
        lo = float(lo) if lo.strip() else float("-inf")
        hi = (float(hi) if hi.strip() else float("inf")) if dots else lo
    except ValueError:
        raise BadOption("filter", f"“{text}”: {variable.name} is a number; write {variable.name}:30 or "
                                  f"{variable.name}:18..30.") from None
    return variable, lambda stored: lo <= number(stored) <= hi


def choose(study, values: list, split: Optional[str], filters: list) -> tuple:
    """The values of the participants the filters keep, each with its group (None without ``split``),
    and what was left out."""
    variables = {v.name.lower(): v for v in study.variables.all()}
    tests = [parse_filter(variables, f) for f in filters]
    split_var = None
    if split:
        split_var = variables.get(split.strip().lower())
        if split_var is None or split_var.kind != Variable.Kind.CATEGORY:
            raise BadOption("split", f"“{split}” is not a category variable of this study (categories: "
                                     f"{', '.join(v.name for v in variables.values() if v.kind == 'category') or 'none'}).")
    known = values_by_participant(study)
    kept, filtered_out, without_group = [], set(), set()
    for v in values:
        mine = known.get(v.participant, {})
        if not all(var.name in mine and ok(mine[var.name]) for var, ok in tests):
            filtered_out.add(v.participant)
            continue
        group = mine.get(split_var.name) if split_var else None
        if split_var and group is None:
            without_group.add(v.participant)
            continue
        kept.append((v, group))
    return kept, split_var, {"filtered_out": len(filtered_out), "without_split_value": sorted(without_group)}


def _compare_conditions(measure: str, a: str, b: str, cells: dict) -> dict:
    result, design = inference.between(cells.get(a, {}), cells.get(b, {}))
    return {**result, "measure": measure, "by": "condition", "condition": None, "compared": [a, b],
            "label": inference.label(measure, result, f"condition {a} vs {b}, {design}")}


def _compare_groups(measure: str, condition, split: str, g1: str, g2: str, cells: dict) -> dict:
    x, y = cells.get(g1, {}), cells.get(g2, {})
    result = inference.welch(list(x.values()), list(y.values()))
    where = "no condition" if condition is None else f"condition {condition}"
    return {**result, "measure": measure, "by": split, "condition": condition, "compared": [g1, g2],
            "label": inference.label(measure, result, f"{split} {g1} vs {g2} in {where}, {len(x)} and {len(y)} "
                                                      "participants")}


def study_inference(study, analyses: QuerySet, baseline: bool = False, split: Optional[str] = None,
                    filters: tuple = ()) -> dict:
    values, left_out = participant_values(analyses, baseline)
    kept, split_var, chosen_out = choose(study, values, split, list(filters))
    # measure -> condition -> group -> participant -> value
    measures = measures_for(baseline)
    cells: dict = {m: {} for m in measures}
    for v, group in kept:
        for m in measures:
            cells[m].setdefault(v.condition, {}).setdefault(group, {})[v.participant] = v.measures[m]
    conditions = sorted({v.condition for v, _ in kept}, key=lambda c: _order((c,)))
    groups = sorted({g for _, g in kept}, key=lambda g: _order((g,)))
    means, tests = [], []
    for m in measures:
        for c in conditions:
            for g in groups:
                part = cells[m].get(c, {}).get(g)
                if part:
                    means.append({"measure": m, "condition": c, "group": g, **inference.mean_ci(list(part.values()))})
        if split_var:
            for c in conditions:
                by_group = cells[m].get(c, {})
                tests += [_compare_groups(m, c, split_var.name, g1, g2, by_group)
                          for g1, g2 in combinations(groups, 2) if g1 in by_group and g2 in by_group]
        else:
            named = [c for c in conditions if c is not None]
            tests += [_compare_conditions(m, a, b, {c: cells[m][c][None] for c in named})
                      for a, b in combinations(named, 2)]
    return {"study": study.pk, "unit": "participant", "confidence": inference.CONFIDENCE,
            "baseline_corrected": baseline, "measures": list(measures), "split": split_var.name if split_var else None,
            "filters": list(filters), "participants": len({v.participant for v, _ in kept}),
            "left_out": {**left_out, **chosen_out}, "means": means, "tests": tests}
