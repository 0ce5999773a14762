"""A study's figures across its videos: per participant and condition, then per condition.

What counts is what the analysis summary counts (summary.py): reliable results, and results stored
before reliability was measured (``reliable`` empty); unreliable ones are left out and their number
is given. A "frame" here is one face on one frame: two faces on screen count twice. Only finished
analyses (``done``) count; how many others the study holds is said beside the figures.

The database adds up (sums and counts grouped by participant and condition), never Python over
every row: a study of long videos holds millions of results. A condition's figures are those sums
added over its participants, so they weigh every face-frame the same, as if all of the condition's
clips were one.

Baseline correction: a participant may have one baseline clip (Analysis.is_baseline, say a neutral
video). Its mean probabilities and mean valence are subtracted from the participant's means in every
condition, so what is left is the change from that person's resting face. Shares of time are not
corrected (a share of the dominant label has no baseline to subtract from).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from django.db.models import Count, Q, QuerySet, Sum

from emotion.ml import EMOTIONS

from ..models import Analysis, FrameResult
from .valence import valence_expression

# emotion.ml.results.counts, as the database filters it (a test holds the two together)
USED = Q(reliable=True) | Q(reliable__isnull=True)
LEFT_OUT = Q(reliable=False)
PLACES = 4


class NoBaseline(Exception):
    """Why an analysis has no baseline to correct by, in words for the user."""


def _sums() -> dict:
    """The aggregates of one group of results: everything a mean or a share is made of."""
    out = {"frames": Count("id", filter=USED), "frames_left_out": Count("id", filter=LEFT_OUT),
           "valence_sum": Sum(valence_expression(), filter=USED)}
    for e in EMOTIONS:
        out[f"sum_{e}"] = Sum(e, filter=USED)
        out[f"count_{e}"] = Count("id", filter=USED & Q(dominant=e))
    return out


@dataclass
class Sums:
    frames: int = 0
    frames_left_out: int = 0
    valence_sum: float = 0.0
    prob_sum: dict = field(default_factory=lambda: dict.fromkeys(EMOTIONS, 0.0))
    dominant: dict = field(default_factory=lambda: dict.fromkeys(EMOTIONS, 0))

    @classmethod
    def from_aggregate(cls, agg: dict) -> "Sums":
        return cls(frames=agg["frames"] or 0, frames_left_out=agg["frames_left_out"] or 0,
                   valence_sum=agg["valence_sum"] or 0.0,
                   prob_sum={e: agg[f"sum_{e}"] or 0.0 for e in EMOTIONS},
                   dominant={e: agg[f"count_{e}"] or 0 for e in EMOTIONS})

    def add(self, other: "Sums") -> None:
        self.frames += other.frames
        self.frames_left_out += other.frames_left_out
        self.valence_sum += other.valence_sum
        for e in EMOTIONS:
            self.prob_sum[e] += other.prob_sum[e]
            self.dominant[e] += other.dominant[e]

    def mean(self) -> Optional[dict]:
        return {e: self.prob_sum[e] / self.frames for e in EMOTIONS} if self.frames else None

    def share(self) -> Optional[dict]:
        return {e: self.dominant[e] / self.frames for e in EMOTIONS} if self.frames else None

    def valence(self) -> Optional[float]:
        return self.valence_sum / self.frames if self.frames else None


@dataclass
class Baseline:
    analysis: int
    frames: int
    mean: dict            # unrounded, for subtracting
    valence: float


def _rounded(value):
    if value is None:
        return None
    if isinstance(value, dict):
        return {k: round(v, PLACES) for k, v in value.items()}
    return round(value, PLACES)


def counted(analyses: QuerySet) -> QuerySet:
    return analyses.filter(status=Analysis.Status.DONE)


def group_sums(analyses: QuerySet) -> dict:
    """(participant code, condition name) -> (number of analyses, Sums); None where unassigned."""
    analyses = counted(analyses)
    groups = {(r["participant__code"], r["condition__name"]): (r["n"], Sums())
              for r in analyses.order_by().values("participant__code", "condition__name").annotate(n=Count("id"))}
    rows = (FrameResult.objects.filter(analysis__in=analyses.values("pk")).order_by()
            .values("analysis__participant__code", "analysis__condition__name").annotate(**_sums()))
    for r in rows:
        key = (r["analysis__participant__code"], r["analysis__condition__name"])
        groups[key][1].add(Sums.from_aggregate(r))
    return groups


def baselines(analyses: QuerySet) -> dict:
    """participant code -> Baseline, for the participants whose baseline clip is finished and has
    reliable results."""
    chosen = counted(analyses).filter(is_baseline=True, participant__isnull=False)
    rows = (FrameResult.objects.filter(analysis__in=chosen.values("pk")).order_by()
            .values("analysis", "analysis__participant__code").annotate(**_sums()))
    out = {}
    for r in rows:
        s = Sums.from_aggregate(r)
        if s.frames:
            out[r["analysis__participant__code"]] = Baseline(r["analysis"], s.frames, s.mean(), s.valence())
    return out


def _corrected(s: Sums, b: Optional[Baseline]) -> Optional[dict]:
    if b is None or not s.frames:
        return None
    mean = s.mean()
    return {"baseline_analysis": b.analysis, "mean": _rounded({e: mean[e] - b.mean[e] for e in EMOTIONS}),
            "valence": _rounded(s.valence() - b.valence)}


def _figures(s: Sums) -> dict:
    return {"frames": s.frames, "frames_left_out": s.frames_left_out, "mean": _rounded(s.mean()),
            "share": _rounded(s.share()), "valence": _rounded(s.valence())}


def _order(key):
    # unassigned (None) last, then by name
    return tuple((v is None, v or "") for v in key)


def study_statistics(study, analyses: QuerySet, baseline: bool = False) -> dict:
    """The figures of ``analyses`` (the study's, as the user may see them). With ``baseline``, each
    row and condition also has ``corrected``: its mean probabilities and valence minus the
    participant's baseline (None for a participant without one)."""
    groups = group_sums(analyses)
    base = baselines(analyses) if baseline else {}
    rows, per_condition = [], {}
    for (participant, condition), (n, s) in sorted(groups.items(), key=lambda kv: _order(kv[0])):
        row = {"participant": participant, "condition": condition, "analyses": n, **_figures(s)}
        if baseline:
            row["corrected"] = _corrected(s, base.get(participant))
        rows.append(row)
        c = per_condition.setdefault(condition, {"participants": set(), "analyses": 0, "sums": Sums(),
                                                 "corrected": Sums(), "without_baseline": set()})
        if participant is not None:
            c["participants"].add(participant)
        c["analyses"] += n
        c["sums"].add(s)
        b = base.get(participant)
        if b is not None:
            # a row's corrected sums: its own minus the baseline once per face-frame it counts
            c["corrected"].add(Sums(frames=s.frames, valence_sum=s.valence_sum - s.frames * b.valence,
                                    prob_sum={e: s.prob_sum[e] - s.frames * b.mean[e] for e in EMOTIONS}))
        elif s.frames:
            c["without_baseline"].add(participant)
    conditions = []
    for name in sorted(per_condition, key=lambda k: _order((k,))):
        c = per_condition[name]
        item = {"condition": name, "participants": len(c["participants"]), "analyses": c["analyses"],
                **_figures(c["sums"])}
        if baseline:
            corrected = c["corrected"]
            item["corrected"] = None if not corrected.frames else {
                "frames": corrected.frames, "mean": _rounded(corrected.mean()),
                "valence": _rounded(corrected.valence()),
                "participants_without_baseline": sorted(c["without_baseline"], key=lambda p: (p is None, p or ""))}
        conditions.append(item)
    return {
        "study": study.pk, "name": study.name, "emotions": list(EMOTIONS), "baseline_corrected": baseline,
        "analyses_not_counted": analyses.exclude(status=Analysis.Status.DONE).count(),
        "rows": rows, "conditions": conditions,
    }


def baseline_of(analysis: Analysis, visible: QuerySet) -> dict:
    """The baseline an analysis is corrected by: its participant's baseline clip's mean probabilities
    and valence. ``visible``: the analyses the user may see. Raises NoBaseline saying why not."""
    if analysis.participant_id is None:
        raise NoBaseline("This analysis has no participant, so it has no baseline.")
    code = analysis.participant.code
    clip = visible.filter(participant_id=analysis.participant_id, is_baseline=True).first()
    if clip is None:
        raise NoBaseline(f"Participant {code} has no baseline analysis.")
    if clip.status != Analysis.Status.DONE:
        raise NoBaseline(f"Participant {code}'s baseline analysis ({clip.pk}) is not finished.")
    b = baselines(Analysis.objects.filter(pk=clip.pk)).get(code)
    if b is None:
        raise NoBaseline(f"Participant {code}'s baseline analysis ({clip.pk}) has no reliable results.")
    return {"participant": code, "baseline_analysis": clip.pk, "frames": b.frames, "mean": _rounded(b.mean),
            "valence": _rounded(b.valence)}
