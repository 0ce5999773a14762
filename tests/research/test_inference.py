"""Participant-level statistics (study_inference.py, inference.py) checked against the small fixed design
of study_data.py, every expected number worked out here by plain arithmetic: means, sd, intervals,
t, df and p (the t distribution integrated numerically, not SciPy), and the effect size's interval
checked by its definition against a noncentral t integrated here too."""

import io
import math

import pandas as pd
import pytest
from rest_framework.test import APIClient

from emotion.research.models import Analysis, Condition, Participant
from emotion.research.stats.inference import paired, welch
from emotion.research.stats.study_inference import study_inference
from tests.research.conftest import api_for
from tests.research.study_data import (DESIGN_AGE, DESIGN_GROUP, DESIGN_HAPPY, add_result, build_design, make_analysis,
                                       member)

pytestmark = pytest.mark.django_db
T975 = {1: 12.706205, 2: 4.302653, 4: 2.776445, 5: 2.570582}       # printed tables of t(0.975, df)


# --- the arithmetic, by hand ------------------------------------------------------------------------------

def mean(xs):
    return sum(xs) / len(xs)


def sd(xs):
    m = mean(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))


def simpson(f, a, b, steps=4000):
    h = (b - a) / steps
    return h / 3 * (f(a) + f(b) + sum((4 if i % 2 else 2) * f(a + i * h) for i in range(1, steps)))


def t_pdf(x, df):
    c = math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)) / math.sqrt(df * math.pi)
    return c * (1 + x * x / df) ** (-(df + 1) / 2)


def two_sided_p(t, df):
    return 1 - 2 * simpson(lambda x: t_pdf(x, df), 0, abs(t))


def t_critical(df):
    """t(0.975, df) by bisection on the integrated density."""
    lo, hi = 0.0, 50.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if two_sided_p(mid, df) > 0.05 else (lo, mid)
    return lo


def noncentral_t_cdf(t, df, delta):
    """P(T <= t) for T = (Z + delta) / sqrt(V / df): the normal cdf averaged over V's chi-square density."""
    phi = lambda z: (1 + math.erf(z / math.sqrt(2))) / 2                       # noqa: E731
    log_norm = (df / 2) * math.log(2) + math.lgamma(df / 2)
    chi2 = lambda v: 0.0 if v <= 0 else math.exp((df / 2 - 1) * math.log(v) - v / 2 - log_norm)   # noqa: E731
    return simpson(lambda v: phi(t * math.sqrt(v / df) - delta) * chi2(v), 0, df + 80, steps=8000)


def welch_by_hand(x, y):
    a, b = sd(x) ** 2 / len(x), sd(y) ** 2 / len(y)
    t = (mean(x) - mean(y)) / math.sqrt(a + b)
    df = (a + b) ** 2 / (a ** 2 / (len(x) - 1) + b ** 2 / (len(y) - 1))
    pooled = math.sqrt(((len(x) - 1) * sd(x) ** 2 + (len(y) - 1) * sd(y) ** 2) / (len(x) + len(y) - 2))
    return t, df, (mean(x) - mean(y)) / pooled


def close(x, places=4):
    return pytest.approx(x, abs=10 ** -places)


def happy(condition, codes=None):
    return [v[condition] for c, v in DESIGN_HAPPY.items() if condition in v and (codes is None or c in codes)]


def by(figures, **keys):
    rows = [r for r in figures if all(r[k] == v for k, v in keys.items())]
    assert len(rows) == 1, (keys, rows)
    return rows[0]


# --- the numbers -----------------------------------------------------------------------------------------

def test_my_t_distribution_matches_the_printed_tables():
    for df, value in T975.items():
        assert t_critical(df) == pytest.approx(value, abs=1e-4)


def test_condition_means_with_their_95_percent_intervals_and_n():
    data = build_design()
    s = study_inference(data["study"], Analysis.objects.filter(study=data["study"]))
    assert s["unit"] == "participant" and s["participants"] == 6
    for condition, n in (("A", 6), ("B", 5)):
        xs = happy(condition)
        half = T975[n - 1] * sd(xs) / math.sqrt(n)
        row = by(s["means"], measure="happy", condition=condition, group=None)
        assert row["n"] == n
        assert row["mean"] == close(mean(xs)) and row["sd"] == close(sd(xs))
        assert (row["ci_low"], row["ci_high"]) == (close(mean(xs) - half), close(mean(xs) + half))
    assert by(s["means"], measure="happy", condition="A", group=None)["mean"] == close(3.15 / 6)
    # valence is happy here (no negative emotion): the same figures under its own name
    assert by(s["means"], measure="valence", condition="B", group=None)["mean"] == close(.42)
    # shares of time: in A every participant's one face-frame is happy (P2's .5 ties with neutral, and a tie
    # goes to the emotion first in the engine's order) except P4's and P6's
    assert by(s["means"], measure="share_happy", condition="A", group=None)["mean"] == close(4 / 6)


def test_conditions_seen_by_the_same_participants_get_a_paired_t_test_on_them():
    data = build_design()
    s = study_inference(data["study"], Analysis.objects.filter(study=data["study"]))
    test = by(s["tests"], measure="happy", compared=["A", "B"])
    # P6 saw only A: the pairs are P1-P5
    diffs = [DESIGN_HAPPY[p]["A"] - DESIGN_HAPPY[p]["B"] for p in ("P1", "P2", "P3", "P4", "P5")]
    assert mean(diffs) == pytest.approx(.15)
    t = mean(diffs) / (sd(diffs) / math.sqrt(5))
    assert t == pytest.approx(3.5857, abs=1e-4)
    assert (test["test"], test["df"], test["n"], test["effect"]) == ("paired t", 4, [5], "d_z")
    assert test["statistic"] == close(t)
    assert test["p"] == pytest.approx(two_sided_p(t, 4), abs=1e-6)
    d_z = mean(diffs) / sd(diffs)
    assert test["effect_size"] == close(d_z)
    # the interval's ends are the d_z whose noncentral t puts the observed t at 97.5% and 2.5%
    assert noncentral_t_cdf(t, 4, test["effect_ci_low"] * math.sqrt(5)) == pytest.approx(.975, abs=2e-4)
    assert noncentral_t_cdf(t, 4, test["effect_ci_high"] * math.sqrt(5)) == pytest.approx(.025, abs=2e-4)
    assert test["label"] == (f"happy: paired t(4) = {t:.2f}, p = {two_sided_p(t, 4):.3f}, d_z = {d_z:.2f} "
                             f"[{test['effect_ci_low']:.2f}, {test['effect_ci_high']:.2f}]; condition A vs B, "
                             "5 participants who saw both")


def test_conditions_with_different_participants_get_welchs_t():
    data = build_design()
    c = Condition.objects.create(study=data["study"], name="C")
    for code, value in (("P7", .2), ("P8", .5), ("P9", .35)):
        clip = make_analysis(data["owner"], data["study"], Participant.objects.create(study=data["study"], code=code), c)
        add_result(clip, 0, {"happy": value, "neutral": 1 - value})
    s = study_inference(data["study"], Analysis.objects.filter(study=data["study"]))
    test = by(s["tests"], measure="happy", compared=["A", "C"])
    t, df, d = welch_by_hand(happy("A"), [.2, .5, .35])
    assert (test["test"], test["n"], test["effect"]) == ("Welch t", [6, 3], "d")
    assert (test["statistic"], test["df"], test["effect_size"]) == (close(t), close(df), close(d))
    assert test["p"] == pytest.approx(two_sided_p(t, df), abs=1e-6)
    pooled_t = d / math.sqrt(1 / 6 + 1 / 3)
    assert noncentral_t_cdf(pooled_t, 7, test["effect_ci_low"] / math.sqrt(1 / 6 + 1 / 3)) == pytest.approx(.975, abs=2e-4)
    assert test["label"].endswith("condition A vs C, 6 and 3 different participants")
    assert [t["compared"] for t in s["tests"] if t["measure"] == "happy"] == [["A", "B"], ["A", "C"], ["B", "C"]]


def test_split_by_a_category_compares_its_groups_within_each_condition():
    data = build_design()
    s = study_inference(data["study"], Analysis.objects.filter(study=data["study"]), split="group")
    assert s["split"] == "group"
    x = happy("A", [p for p, g in DESIGN_GROUP.items() if g == "x"])
    y = happy("A", [p for p, g in DESIGN_GROUP.items() if g == "y"])
    assert (x, y) == ([.6, .5, .7], [.4, .65, .3])
    row = by(s["means"], measure="happy", condition="A", group="y")
    assert (row["n"], row["mean"]) == (3, close(.45))
    assert row["ci_high"] == close(.45 + T975[2] * sd(y) / math.sqrt(3))
    test = by(s["tests"], measure="happy", condition="A")
    t, df, d = welch_by_hand(x, y)
    assert t == pytest.approx(1.2603, abs=1e-4) and df == pytest.approx(3.1243, abs=1e-4)
    assert (test["by"], test["compared"], test["test"], test["n"]) == ("group", ["x", "y"], "Welch t", [3, 3])
    assert (test["statistic"], test["df"], test["effect_size"]) == (close(t), close(df), close(d))
    assert test["p"] == pytest.approx(two_sided_p(t, df), abs=1e-6)
    assert test["label"].startswith(f"happy: Welch t(3.1) = {t:.2f}, p = {two_sided_p(t, df):.3f}, d = {d:.2f} [")
    assert test["label"].endswith("; group x vs y in condition A, 3 and 3 participants")
    # no condition comparison while split: the groups are what is compared
    assert all(t["by"] == "group" for t in s["tests"])


def test_filters_keep_participants_by_value_and_by_range():
    data = build_design()
    analyses = Analysis.objects.filter(study=data["study"])
    s = study_inference(data["study"], analyses, filters=("age:20..40",))
    kept = sorted(p for p, a in DESIGN_AGE.items() if 20 <= a <= 40)
    assert kept == ["P1", "P2", "P3"]
    assert s["participants"] == 3 and s["left_out"]["filtered_out"] == 3        # P6 has no age: left out
    diffs = [DESIGN_HAPPY[p]["A"] - DESIGN_HAPPY[p]["B"] for p in kept]
    test = by(s["tests"], measure="happy", compared=["A", "B"])
    assert test["n"] == [3] and test["statistic"] == close(mean(diffs) / (sd(diffs) / math.sqrt(3)))
    both = study_inference(data["study"], analyses, filters=("group:y", "age:..30"))
    assert both["participants"] == 1                                            # P5 (19.5)
    one = by(both["means"], measure="happy", condition="A", group=None)
    assert (one["n"], one["mean"], one["ci_low"]) == (1, close(.65), None)
    assert by(both["tests"], measure="happy")["reason"].startswith("1 participant on both sides")


def test_baseline_correction_uses_only_participants_with_a_baseline():
    data = build_design()
    p1 = Participant.objects.get(study=data["study"], code="P1")
    add_result(make_analysis(data["owner"], data["study"], p1, None, is_baseline=True), 0, {"happy": .1, "neutral": .9})
    analyses = Analysis.objects.filter(study=data["study"])
    plain = study_inference(data["study"], analyses)
    assert all(m["condition"] is not None for m in plain["means"])              # the baseline clip is no condition
    s = study_inference(data["study"], analyses, baseline=True)
    assert s["left_out"]["without_baseline"] == ["P2", "P3", "P4", "P5", "P6"]
    assert by(s["means"], measure="happy", condition="A", group=None)["mean"] == close(.6 - .1)
    assert "share_happy" in plain["measures"] and "share_happy" not in s["measures"]     # no baseline to subtract


def test_the_effect_size_functions_refuse_what_cannot_be_tested():
    assert paired([.1], [.2])["reason"].startswith("1 participant")
    assert "same" in paired([.3, .4], [.2, .3])["reason"]
    assert welch([.1, .2], [.3])["statistic"] is None


# --- the API -------------------------------------------------------------------------------------------

def test_statistics_api_and_who_may_read_it():
    data = build_design()
    study = data["study"]
    url = f"/api/studies/{study.pk}/statistics/"
    viewer, editor = member(study, "vera", "viewer"), member(study, "ed", "editor")
    outsider = member(data["owner"].owned_studies.create(name="other"), "otto", "editor")
    owner = api_for(data["owner"])
    for client in (owner, api_for(editor), api_for(viewer)):
        res = client.get(url, {"split": "group", "filter": ["age:..40"]})
        assert res.status_code == 200
        assert res.json()["split"] == "group" and res.json()["filters"] == ["age:..40"]
    assert api_for(outsider).get(url).status_code == 404
    assert APIClient().get(url).status_code == 401
    assert "not a category variable" in owner.get(url, {"split": "age"}).json()["split"][0]
    assert owner.get(url, {"filter": "height:3"}).status_code == 400
    assert "is a number" in owner.get(url, {"filter": "age:old"}).json()["filter"][0]


def test_the_tidy_csv_reads_into_pandas_as_it_is():
    data = build_design()
    study = data["study"]
    owner = api_for(data["owner"])
    res = owner.get(f"/api/studies/{study.pk}/participant-means.csv")
    assert res.status_code == 200 and res["Content-Type"].startswith("text/csv")
    df = pd.read_csv(io.StringIO(b"".join(res.streaming_content).decode()))
    assert list(df.columns) == ["participant", "condition", "age", "group", "measure", "value", "frames"]
    assert len(df) == (6 + 5) * 15            # participant x condition x 15 measures (7 means, valence, 7 shares)
    assert str(df["value"].dtype) == "float64" and str(df["age"].dtype) == "float64"
    assert str(df["frames"].dtype) == "int64"
    p1 = df[(df.participant == "P1") & (df.condition == "A") & (df.measure == "happy")].iloc[0]
    assert (p1.value, p1.age, p1.group, p1.frames) == (pytest.approx(.6), 21, "x", 1)
    assert df[df.participant == "P6"]["age"].isna().all()
    # what the statistics computed, pandas computes again from the file
    a = df[(df.condition == "A") & (df.measure == "happy")]["value"]
    assert a.mean() == pytest.approx(3.15 / 6) and a.std() == pytest.approx(sd(happy("A")))
    filtered = owner.get(f"/api/studies/{study.pk}/participant-means.csv", {"filter": "group:x"})
    assert set(pd.read_csv(io.StringIO(b"".join(filtered.streaming_content).decode())).participant) == {"P1", "P2", "P3"}


def test_who_may_download_the_tidy_csv():
    data = build_design()
    url = f"/api/studies/{data['study'].pk}/participant-means.csv"
    assert api_for(member(data["study"], "vera", "viewer")).get(url).status_code == 200
    assert api_for(member(data["study"], "ed", "editor")).get(url).status_code == 200
    assert api_for(member(data["owner"].owned_studies.create(name="other"), "otto", "editor")).get(url).status_code == 404
    assert APIClient().get(url).status_code == 401
