"""Means with their 95% intervals, and the test between two sets of participants' values, with SciPy.

The unit is the participant (study_inference.py gives one value per participant and condition), never
the face-frame: frames of one person are not independent observations, so a frame-level test would
claim certainty that the data do not have.

- A mean's interval: mean ± t(0.975, n − 1) · sd / √n, sd with n − 1 (none below n = 2).
- Paired t when the same participants are on both sides (matched by participant): the test of the
  differences x − y. Effect size Cohen's d_z = mean(differences) / sd(differences).
- Welch's t otherwise (unequal variances allowed; Welch–Satterthwaite df). Effect size Cohen's d
  with the pooled sd, sqrt(((n1 − 1)·s1² + (n2 − 1)·s2²) / (n1 + n2 − 2)).
- The effect size's 95% interval by inverting the noncentral t distribution (Steiger & Fouladi): the
  noncentrality parameters that put the observed t at the 97.5th and 2.5th percentile, scaled back
  to d (d_z: t / √n with n − 1 df; d: t · √(1/n1 + 1/n2) with n1 + n2 − 2 df, the pooled t). This is
  what R's effectsize and MBESS give; the normal approximation is too narrow at the small n of a study.

p-values are two-sided and are not corrected for the number of tests a page shows.
"""

from __future__ import annotations

import math
import warnings
from functools import lru_cache
from typing import Optional, Sequence

from scipy import optimize, stats

CONFIDENCE = 0.95
PLACES = 4


def _r(x: Optional[float]) -> Optional[float]:
    return None if x is None else round(float(x), PLACES)


def _sd(values: Sequence[float]) -> float:
    m = sum(values) / len(values)
    return math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1))


def _flat(values: Sequence[float]) -> bool:
    """No spread beyond rounding: .3 - .2 and .4 - .3 differ in the 17th digit, which is no difference."""
    return _sd(values) <= 1e-9 * max(1.0, max(abs(v) for v in values))


@lru_cache(maxsize=None)
def _t_quantile(df: int) -> float:
    # SciPy's quantile costs ~0.15 ms; a time course asks for thousands of intervals (bins x measures x
    # groups) over a handful of distinct n
    return float(stats.t.ppf(0.5 + CONFIDENCE / 2, df))


def mean_ci(values: Sequence[float]) -> dict:
    """n, mean, sd and the t-based 95% interval of the mean (sd and interval None below n = 2)."""
    n = len(values)
    if not n:
        return {"n": 0, "mean": None, "sd": None, "ci_low": None, "ci_high": None}
    mean = sum(values) / n
    if n < 2:
        return {"n": 1, "mean": _r(mean), "sd": None, "ci_low": None, "ci_high": None}
    sd = _sd(values)
    half = _t_quantile(n - 1) * sd / math.sqrt(n)
    return {"n": n, "mean": _r(mean), "sd": _r(sd), "ci_low": _r(mean - half), "ci_high": _r(mean + half)}


def _noncentral_ci(t: float, df: float) -> tuple:
    """The noncentrality parameters whose t distributions put ``t`` at the upper and lower tail; (None,
    None) where the noncentral t cannot be evaluated that far out (a t in the thousands)."""
    if abs(t) > 1000:
        return None, None
    tail = (1 - CONFIDENCE) / 2

    def solve(q: float) -> float:
        f = lambda delta: stats.nct.cdf(t, df, delta) - q        # noqa: E731 - falls as delta grows
        width = 5.0 + abs(t)
        lo, hi = t - width, t + width
        while f(lo) < 0:
            lo -= width
        while f(hi) > 0:
            hi += width
        return optimize.brentq(f, lo, hi, xtol=1e-10)

    return solve(1 - tail), solve(tail)


def _scaled(delta: Optional[float], scale: float) -> Optional[float]:
    return None if delta is None else _r(delta * scale)


def _refused(name: str, reason: str, n) -> dict:
    return {"test": name, "statistic": None, "df": None, "p": None, "effect": None, "effect_size": None,
            "effect_ci_low": None, "effect_ci_high": None, "n": n, "reason": reason}


def paired(x: Sequence[float], y: Sequence[float]) -> dict:
    """Paired t of x − y (x[i] and y[i] are one participant's), with d_z and its interval."""
    n = len(x)
    if n < 2:
        return _refused("paired t", f"{n} participant{'' if n == 1 else 's'} on both sides; a paired test "
                                    "needs 2 or more", [n])
    diffs = [a - b for a, b in zip(x, y)]
    if _flat(diffs):
        return _refused("paired t", "every participant's difference is the same: no spread to test against", [n])
    result = stats.ttest_rel(x, y)
    t, df = float(result.statistic), float(result.df)
    d = t / math.sqrt(n)
    lo, hi = _noncentral_ci(t, df)
    return {"test": "paired t", "statistic": _r(t), "df": _r(df), "p": float(result.pvalue), "effect": "d_z",
            "effect_size": _r(d), "effect_ci_low": _scaled(lo, 1 / math.sqrt(n)), "effect_ci_high": _scaled(hi, 1 / math.sqrt(n)),
            "n": [n], "reason": None}


def welch(x: Sequence[float], y: Sequence[float]) -> dict:
    """Welch's t of mean(x) − mean(y) for two sets of different participants, with Cohen's d (pooled sd)."""
    n1, n2 = len(x), len(y)
    if min(n1, n2) < 2:
        return _refused("Welch t", "each side needs 2 or more participants", [n1, n2])
    s1, s2 = _sd(x), _sd(y)
    if _flat(x) and _flat(y):
        return _refused("Welch t", "every value is the same within each side: no spread to test against", [n1, n2])
    with warnings.catch_warnings():
        # one side without spread (every participant at share 1, say) is fine for Welch: its variance term
        # is 0. SciPy warns of "catastrophic cancellation" in that side's moments, which is that 0.
        warnings.filterwarnings("ignore", "Precision loss occurred in moment calculation", RuntimeWarning)
        result = stats.ttest_ind(x, y, equal_var=False)
    pooled = math.sqrt(((n1 - 1) * s1 ** 2 + (n2 - 1) * s2 ** 2) / (n1 + n2 - 2))
    d = (sum(x) / n1 - sum(y) / n2) / pooled
    scale = math.sqrt(1 / n1 + 1 / n2)
    lo, hi = _noncentral_ci(d / scale, n1 + n2 - 2)
    return {"test": "Welch t", "statistic": _r(result.statistic), "df": _r(result.df), "p": float(result.pvalue),
            "effect": "d", "effect_size": _r(d), "effect_ci_low": _scaled(lo, scale), "effect_ci_high": _scaled(hi, scale),
            "n": [n1, n2], "reason": None}


def between(x: dict, y: dict) -> tuple:
    """(test, design in words) of two sets of participants' values (participant -> value): paired t on the
    participants on both sides when there are any (the same people seen twice), Welch's t otherwise."""
    both = sorted(set(x) & set(y))
    if both:
        return paired([x[p] for p in both], [y[p] for p in both]), \
            f"{len(both)} participant{'' if len(both) == 1 else 's'} who saw both"
    return welch(list(x.values()), list(y.values())), f"{len(x)} and {len(y)} different participants"


def p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def label(measure: str, result: dict, compared: str) -> str:
    """One line saying what was tested and what came out, e.g. "happy: paired t(11) = 2.31, p = 0.041,
    d_z = 0.67 [0.04, 1.28]; A vs B, 12 participants who saw both"."""
    if result["statistic"] is None:
        return f"{measure}: {compared}: not tested ({result['reason']})"
    df = result["df"]
    df_text = f"{df:.0f}" if float(df).is_integer() else f"{df:.1f}"
    lo, hi = result["effect_ci_low"], result["effect_ci_high"]
    interval = "(no interval)" if lo is None else f"[{lo:.2f}, {hi:.2f}]"
    return (f"{measure}: {result['test']}({df_text}) = {result['statistic']:.2f}, {p_text(result['p'])}, "
            f"{result['effect']} = {result['effect_size']:.2f} {interval}; {compared}")
