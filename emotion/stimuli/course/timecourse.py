"""A stimulus' group time course: what the participants' faces did, bin by bin of stimulus time, with the
participant as the unit. Plain Python and numpy over frames already on the stimulus' time axis; the
database side (course/data.py) hands them over as ``Reading``s.

- Frames that count: reliable ones (emotion.ml.results.counts), inside the stimulus (0 to its
  duration), outside the recording's gaps (paused, seeked over, hidden, connection lost).
- Bins of ``bin_width`` seconds from 0; the last one may be shorter. A participant's value in a bin is
  the mean over their counted frames in it: each emotion's probability and the valence
  (emotion/ml/valence.py). A participant who read the stimulus more than once (in one group) has the
  frames of all those recordings averaged together, as the study statistics pool a participant's
  analyses in a condition: one value per participant, however many recordings.
- Per bin and group: the mean over the participants with frames there, its 95% t interval and n
  (research/stats/inference.py). Groups: everyone, each condition, or each value of a participant variable
  (a number variable split at the median of the participants here).
- Baseline: a participant with a baseline vector has it subtracted from every value, as the study
  statistics do; a participant without one stays in, uncorrected, and is listed.
- Per event marker: each participant's mean over their frames in [start, end), the group means, and a
  test between each two groups: paired on the participants in both when there are any (two conditions
  each seen by everyone), Welch's otherwise; never between no condition and a named one.
"""

from __future__ import annotations

import math
import statistics as pystats
from dataclasses import dataclass, field
from itertools import combinations
from typing import Iterator, Optional, Sequence

import numpy as np

from emotion.ml.labels import EMOTIONS
from emotion.ml.results import counts
from emotion.ml.valence import NEGATIVE, POSITIVE
from emotion.research.stats import inference

MEASURES = (*EMOTIONS, "valence")
BIN_DEFAULT = 0.5
BIN_MIN, BIN_MAX = 0.1, 30.0       # finer than a tenth of a second is frame noise; coarser says little
MAX_BINS = 3600                    # a 30-minute stimulus at 0.5 s: the page stays a few MB at most
# A time on a bin's edge belongs to the bin it starts: 0.3 / 0.1 is 2.9999999999999996 in floats
EDGE = 1e-9
PLACES = 6


@dataclass
class Reading:
    """One recording's frames, times in stimulus seconds."""
    participant: str
    condition: Optional[str]
    times: np.ndarray                       # (n,)
    probs: np.ndarray                       # (n, 7) in EMOTIONS order
    reliable: Sequence                      # n flags: True, False or None (stored before the flag)
    gaps: Sequence = ()                     # [{"start", "end"}, ...] of stimulus time without data


@dataclass
class Grouping:
    """How participants are grouped: ``by`` is "all", "condition" or "variable:<name>"; a variable's
    ``values`` map participant codes to text (a category) or numbers (split at the median)."""
    by: str = "all"
    variable: Optional[str] = None
    numeric: bool = False
    values: dict = field(default_factory=dict)


@dataclass
class Unit:
    """One participant in one group: their counted frames' times and measures (MEASURES columns)."""
    participant: str
    group: Optional[str]
    times: np.ndarray
    values: np.ndarray
    bin_sum: np.ndarray = None
    bin_frames: np.ndarray = None


def check_bin(width: float, duration: float) -> float:
    """The bin width, or ValueError saying what would fit, in words for the user."""
    if not (isinstance(width, (int, float)) and math.isfinite(width)) or not BIN_MIN <= width <= BIN_MAX:
        raise ValueError(f"A bin is {BIN_MIN:g} to {BIN_MAX:g} seconds wide.")
    if duration / width > MAX_BINS:
        raise ValueError(f"{width:g} s bins would cut this {duration:g} s stimulus into more than {MAX_BINS} bins; "
                         f"choose {math.ceil(duration / MAX_BINS * 10) / 10:g} s or wider.")
    return float(width)


def frame_measures(probs: np.ndarray) -> np.ndarray:
    """(n, 8): the probabilities and the valence of each frame (emotion/ml/valence.py's definition)."""
    probs = np.asarray(probs, dtype=float).reshape(-1, len(EMOTIONS))
    valence = probs[:, EMOTIONS.index(POSITIVE)] - probs[:, [EMOTIONS.index(e) for e in NEGATIVE]].max(axis=1)
    return np.column_stack([probs, valence])


def counted(reading: Reading, duration: float) -> np.ndarray:
    """Which of the reading's frames count: reliable, within the stimulus, in no gap."""
    t = np.asarray(reading.times, dtype=float)
    keep = np.array([counts(r) for r in reading.reliable], dtype=bool) & (t >= 0) & (t <= duration)
    for gap in reading.gaps:
        keep &= ~((t >= float(gap["start"])) & (t < float(gap["end"])))
    return keep


def median_labels(name: str, values: dict) -> dict:
    """participant -> "<name> ≤ m (median)" or "<name> > m (median)", m the median of ``values``."""
    m = pystats.median(values.values())
    return {p: f"{name} {'≤' if v <= m else '>'} {m:g} (median)" for p, v in values.items()}


class Prepared:
    """The units of one time course and their bin means; what the JSON and both CSVs are made of."""

    def __init__(self, readings: Sequence[Reading], duration: float, bin_width: float = BIN_DEFAULT,
                 grouping: Grouping = None, baselines: Optional[dict] = None):
        self.duration, self.bin_width = float(duration), check_bin(bin_width, duration)
        self.grouping = grouping or Grouping()
        self.baseline = baselines is not None
        self.n_bins = max(1, math.ceil(self.duration / self.bin_width - EDGE))
        starts = np.arange(self.n_bins) * self.bin_width
        self.bins = [(round(s, PLACES), round(min(s + self.bin_width, self.duration), PLACES)) for s in starts]
        self.left_out = {"without_group_value": set(), "uncorrected": set(), "frames_not_counted": 0}
        groups = self._group_keys(readings)
        units: dict = {}
        for r in readings:
            if self.grouping.by == "condition":
                group = r.condition
            elif r.participant in groups:
                group = groups[r.participant]
            else:                 # a variable the participant has no value of
                self.left_out["without_group_value"].add(r.participant)
                continue
            keep = counted(r, self.duration)
            self.left_out["frames_not_counted"] += int((~keep).sum())
            if not keep.any():
                continue
            key = (r.participant, group)
            t, v = np.asarray(r.times, dtype=float)[keep], frame_measures(r.probs)[keep]
            if key in units:      # several recordings of one participant in one group: frames pooled
                units[key].times = np.concatenate([units[key].times, t])
                units[key].values = np.vstack([units[key].values, v])
            else:
                units[key] = Unit(r.participant, group, t, v)
        for u in units.values():
            if self.baseline:
                b = baselines.get(u.participant)
                if b is None:
                    self.left_out["uncorrected"].add(u.participant)
                else:
                    u.values = u.values - np.asarray(b, dtype=float)
            idx = np.minimum(np.floor(u.times / self.bin_width + EDGE).astype(int), self.n_bins - 1)
            u.bin_frames = np.bincount(idx, minlength=self.n_bins)
            u.bin_sum = np.zeros((self.n_bins, len(MEASURES)))
            np.add.at(u.bin_sum, idx, u.values)
        self.units = sorted(units.values(), key=lambda u: (u.participant, _order(u.group)))
        # a median split's lower half first; else by name, no condition last
        below = (lambda k: "≤" not in k) if self.grouping.numeric else _order
        self.group_keys = sorted({u.group for u in self.units}, key=below)

    def _group_keys(self, readings) -> dict:
        """participant -> group key, for "all" and a variable (conditions go by recording)."""
        g = self.grouping
        present = {r.participant for r in readings}
        if g.by == "all":
            return {p: "all" for p in present}
        if g.by == "condition":
            return {}
        values = {p: g.values[p] for p in present if p in g.values}
        return median_labels(g.variable, values) if g.numeric and values else values

    def label(self, key) -> str:
        if key is None:
            return "(no condition)"
        if self.grouping.by.startswith("variable:") and not self.grouping.numeric:
            return f"{self.grouping.variable} = {key}"
        return key

    def bin_means(self, unit: Unit) -> np.ndarray:
        """(bins, 8): the unit's mean per bin, NaN where it has no frame."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return unit.bin_sum / unit.bin_frames[:, None]


def _order(key):
    return (key is None, key or "")


def _series(prepared: Prepared, units: list) -> dict:
    means = [prepared.bin_means(u) for u in units]
    out = {m: {"mean": [], "low": [], "high": [], "n": []} for m in MEASURES}
    for b in range(prepared.n_bins):
        for j, m in enumerate(MEASURES):
            ci = inference.mean_ci([float(x[b, j]) for x in means if not math.isnan(x[b, j])])
            for key, source in (("mean", "mean"), ("low", "ci_low"), ("high", "ci_high"), ("n", "n")):
                out[m][key].append(ci[source])
    return out


def marker_values(prepared: Prepared, start: float, end: float) -> list:
    """[(unit, frames, values (8,))] for the units with frames in [start, end)."""
    out = []
    for u in prepared.units:
        inside = (u.times >= start) & (u.times < end)
        if inside.any():
            out.append((u, int(inside.sum()), u.values[inside].mean(axis=0)))
    return out


def compare(measure: str, marker: str, a, b, xa: dict, xb: dict, labels) -> dict:
    result, design = inference.between(xa, xb)
    return {**result, "measure": measure, "compared": [a, b],
            "label": inference.label(measure, result, f"{labels(a)} vs {labels(b)} over “{marker}”, {design}")}


def _marker(prepared: Prepared, marker: dict) -> dict:
    cells = {m: {} for m in MEASURES}          # measure -> group -> participant -> value
    for u, _, values in marker_values(prepared, marker["start"], marker["end"]):
        for j, m in enumerate(MEASURES):
            cells[m].setdefault(u.group, {})[u.participant] = float(values[j])
    means, tests = [], []
    for m in MEASURES:
        for g in prepared.group_keys:
            if g in cells[m]:
                means.append({"measure": m, "group": g, **inference.mean_ci(list(cells[m][g].values()))})
        named = [g for g in prepared.group_keys if g is not None and g in cells[m]]
        tests += [compare(m, marker["name"], a, b, cells[m][a], cells[m][b], prepared.label)
                  for a, b in combinations(named, 2)]
    return {"name": marker["name"], "start": marker["start"], "end": marker["end"], "means": means, "tests": tests}


def time_course(prepared: Prepared, markers: Sequence[dict] = ()) -> dict:
    """The figures of ``prepared``; ``markers``: [{"name", "start", "end"}]."""
    groups = []
    for g in prepared.group_keys:
        units = [u for u in prepared.units if u.group == g]
        groups.append({"key": g, "label": prepared.label(g), "participants": len(units),
                       "frames": int(sum(len(u.times) for u in units)), "series": _series(prepared, units)})
    out = prepared.left_out
    return {"unit": "participant", "confidence": inference.CONFIDENCE, "duration": prepared.duration,
            "bin": prepared.bin_width, "by": prepared.grouping.by, "baseline_corrected": prepared.baseline,
            "measures": list(MEASURES), "participants": len({u.participant for u in prepared.units}),
            "bins": [{"start": s, "end": e} for s, e in prepared.bins], "groups": groups,
            "markers": [_marker(prepared, m) for m in markers],
            "left_out": {"frames_not_counted": out["frames_not_counted"],
                         "without_group_value": sorted(out["without_group_value"]),
                         "uncorrected": sorted(out["uncorrected"])}}


def bin_rows(prepared: Prepared) -> Iterator[dict]:
    """One row per participant x group x bin x measure where the participant has frames in the bin."""
    for u in prepared.units:
        means = prepared.bin_means(u)
        for b, (start, end) in enumerate(prepared.bins):
            if u.bin_frames[b]:
                for j, m in enumerate(MEASURES):
                    yield {"participant": u.participant, "group": u.group, "bin_start": start, "bin_end": end,
                           "measure": m, "value": round(float(means[b, j]), PLACES), "frames": int(u.bin_frames[b])}


def marker_rows(prepared: Prepared, markers: Sequence[dict]) -> Iterator[dict]:
    """One row per participant x group x marker x measure where the participant has frames in it."""
    for marker in markers:
        for u, frames, values in marker_values(prepared, marker["start"], marker["end"]):
            for j, m in enumerate(MEASURES):
                yield {"participant": u.participant, "group": u.group, "marker": marker["name"],
                       "marker_start": marker["start"], "marker_end": marker["end"], "measure": m,
                       "value": round(float(values[j]), PLACES), "frames": frames}
