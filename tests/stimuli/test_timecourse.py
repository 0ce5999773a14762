"""The time course's arithmetic (emotion/stimuli/course/timecourse.py) against a small fixed design worked out here
by hand: 3 participants x 2 conditions, a few frames each, happy = the value written and neutral the rest
(so each frame's valence is its happy). Expected p-values come from the t density integrated in
tests/research/test_inference.py, not from SciPy."""

import math

import numpy as np
import pytest

from emotion.ml.labels import EMOTIONS
from emotion.ml.valence import valence
from emotion.stimuli.course.timecourse import (Grouping, Prepared, Reading, bin_rows, check_bin, frame_measures,
                                               marker_rows, time_course)
from tests.research.test_inference import T975, mean, sd, two_sided_p

HAPPY = EMOTIONS.index("happy")
DURATION = 1.5


def reading(participant, condition, frames, gaps=()):
    """frames: (time, happy, reliable)"""
    probs = np.zeros((len(frames), len(EMOTIONS)))
    for i, (_, h, _) in enumerate(frames):
        probs[i, HAPPY], probs[i, EMOTIONS.index("neutral")] = h, 1 - h
    return Reading(participant, condition, np.array([f[0] for f in frames], dtype=float), probs,
                   [f[2] for f in frames], gaps)


def design() -> list:
    return [
        # P1 in A: a frame inside its gap, one after the end and one before the start: none counts
        reading("P1", "A", [(0.1, .6, True), (0.3, .4, True), (0.45, 1.0, True), (0.6, .7, True), (1.6, .9, True),
                            (-0.2, .9, True)], gaps=[{"start": 0.4, "end": 0.5, "reason": "pause"}]),
        # P2 in A: an unreliable frame left out; one stored before reliability was measured counts
        reading("P2", "A", [(0.2, .5, True), (0.25, 0.0, False), (0.7, .3, None), (0.8, .5, True)]),
        reading("P3", "A", [(0.4, .8, True), (0.9, .6, True), (1.2, .3, True)]),
        reading("P1", "B", [(0.1, .2, True), (0.6, .3, True)]),
        reading("P2", "B", [(0.2, .4, True), (0.6, .2, True)]),
        reading("P3", "B", [(0.3, .5, True), (0.7, .3, True)]),
    ]


MARKERS = [{"name": "opening", "start": 0.0, "end": 1.0}]


def interval(xs):
    half = T975[len(xs) - 1] * sd(xs) / math.sqrt(len(xs))
    return mean(xs) - half, mean(xs) + half


def close(x):
    return pytest.approx(x, abs=1e-4)


def group(figures, key):
    return next(g for g in figures["groups"] if g["key"] == key)


def test_bins_means_intervals_and_n_per_condition():
    figures = time_course(Prepared(design(), DURATION, 0.5, Grouping("condition")), MARKERS)
    assert figures["bins"] == [{"start": 0.0, "end": 0.5}, {"start": 0.5, "end": 1.0}, {"start": 1.0, "end": 1.5}]
    assert [g["key"] for g in figures["groups"]] == ["A", "B"]
    a = group(figures, "A")["series"]
    # bin 0 of A: P1 (.6 + .4) / 2 (the frame in its gap left out), P2 .5 (the unreliable one left out), P3 .8
    bin0 = [(.6 + .4) / 2, .5, .8]
    # bin 1 of A: P1 .7, P2 (.3 + .5) / 2 (reliability not measured: counts), P3 .6
    bin1 = [.7, (.3 + .5) / 2, .6]
    for m in ("happy", "valence"):
        assert a[m]["n"] == [3, 3, 1]
        assert a[m]["mean"] == [close(mean(bin0)), close(mean(bin1)), close(.3)]
        assert [a[m]["low"][0], a[m]["high"][0]] == [close(x) for x in interval(bin0)]
        assert [a[m]["low"][1], a[m]["high"][1]] == [close(x) for x in interval(bin1)]
        assert a[m]["low"][2] is None and a[m]["high"][2] is None            # one participant: no interval
    assert a["neutral"]["mean"][0] == close(1 - mean(bin0))
    assert a["angry"]["mean"][0] == 0
    b = group(figures, "B")["series"]["happy"]
    assert b["mean"] == [close(mean([.2, .4, .5])), close(mean([.3, .2, .3])), None]
    assert b["n"] == [3, 3, 0]
    # the gap's frame, the two outside the stimulus and the unreliable one
    assert figures["left_out"]["frames_not_counted"] == 4
    assert figures["participants"] == 3 and figures["unit"] == "participant"


def test_marker_means_and_the_paired_test():
    figures = time_course(Prepared(design(), DURATION, 0.5, Grouping("condition")), MARKERS)
    marker = figures["markers"][0]
    in_a = [(.6 + .4 + .7) / 3, (.5 + .3 + .5) / 3, (.8 + .6) / 2]
    in_b = [(.2 + .3) / 2, (.4 + .2) / 2, (.5 + .3) / 2]
    means = {r["group"]: r for r in marker["means"] if r["measure"] == "valence"}
    assert means["A"]["mean"] == close(mean(in_a)) and means["A"]["n"] == 3
    assert [means["B"]["ci_low"], means["B"]["ci_high"]] == [close(x) for x in interval(in_b)]
    test = next(t for t in marker["tests"] if t["measure"] == "valence")
    diffs = [x - y for x, y in zip(in_a, in_b)]
    t = mean(diffs) / (sd(diffs) / math.sqrt(3))
    assert test["test"] == "paired t" and test["compared"] == ["A", "B"] and test["n"] == [3]
    assert test["statistic"] == close(t) and test["df"] == 2
    assert test["p"] == pytest.approx(two_sided_p(t, 2), abs=1e-5)
    assert test["effect"] == "d_z" and test["effect_size"] == close(t / math.sqrt(3))
    assert test["effect_ci_low"] < test["effect_size"] < test["effect_ci_high"]
    assert test["label"].startswith("valence: paired t(2) = 4.27, p = 0.05") and "; A vs B over “opening”, 3 participants who saw both" in test["label"]


def test_welch_when_the_groups_are_different_people():
    # P1 and P2 saw A, P3 and a fourth saw B: no one in both
    readings = [r for r in design() if (r.participant, r.condition) in {("P1", "A"), ("P2", "A"), ("P3", "B")}]
    readings.append(reading("P4", "B", [(0.5, .9, True)]))
    marker = time_course(Prepared(readings, DURATION, 0.5, Grouping("condition")), MARKERS)["markers"][0]
    test = next(t for t in marker["tests"] if t["measure"] == "happy")
    x, y = [(.6 + .4 + .7) / 3, (.5 + .3 + .5) / 3], [(.5 + .3) / 2, .9]
    a, b = sd(x) ** 2 / 2, sd(y) ** 2 / 2
    assert test["test"] == "Welch t" and test["n"] == [2, 2]
    assert test["statistic"] == close((mean(x) - mean(y)) / math.sqrt(a + b))
    assert test["df"] == close((a + b) ** 2 / (a ** 2 + b ** 2))


def test_a_participants_recordings_are_pooled_frame_by_frame():
    again = reading("P1", "A", [(0.2, .9, True)])
    figures = time_course(Prepared([*design(), again], DURATION, 0.5, Grouping("condition")))
    rows = [r for r in bin_rows(Prepared([*design(), again], DURATION, 0.5, Grouping("condition")))
            if r["participant"] == "P1" and r["group"] == "A" and r["measure"] == "happy"]
    # three frames in bin 0, averaged together: not the mean of the two recordings' means
    assert rows[0]["value"] == pytest.approx((.6 + .4 + .9) / 3) and rows[0]["frames"] == 3
    assert group(figures, "A")["series"]["happy"]["n"][0] == 3           # still one participant


def test_everyone_together_pools_the_conditions():
    figures = time_course(Prepared(design(), DURATION, 0.5), MARKERS)
    assert [g["key"] for g in figures["groups"]] == ["all"]
    p1 = (.6 + .4 + .2) / 3
    assert group(figures, "all")["series"]["happy"]["mean"][0] == close(mean([p1, (.5 + .4) / 2, (.8 + .5) / 2]))
    assert figures["markers"][0]["tests"] == []                          # one group: nothing to compare


def test_baseline_subtracted_where_there_is_one():
    base = {"P1": [0, 0, 0, .1, 0, 0, .9, .1], "P2": [0, 0, 0, .2, 0, 0, .8, .2]}       # P3 has none
    figures = time_course(Prepared(design(), DURATION, 0.5, Grouping("condition"), base), MARKERS)
    a = group(figures, "A")["series"]
    assert a["valence"]["mean"][0] == close(mean([(.6 + .4) / 2 - .1, .5 - .2, .8]))
    assert a["neutral"]["mean"][0] == close(mean([(.4 + .6) / 2 - .9, .5 - .8, .2]))
    assert figures["baseline_corrected"] is True and figures["left_out"]["uncorrected"] == ["P3"]


def test_groups_of_a_category_and_a_median_split():
    cat = time_course(Prepared(design(), DURATION, 0.5, Grouping("variable:group", "group", False,
                                                                 {"P1": "x", "P2": "y"})), MARKERS)
    assert [(g["key"], g["label"]) for g in cat["groups"]] == [("x", "group = x"), ("y", "group = y")]
    assert cat["left_out"]["without_group_value"] == ["P3"]
    num = time_course(Prepared(design(), DURATION, 0.5, Grouping("variable:age", "age", True,
                                                                 {"P1": 20, "P2": 30, "P3": 40})), MARKERS)
    assert [(g["label"], g["participants"]) for g in num["groups"]] == [("age ≤ 30 (median)", 2),
                                                                         ("age > 30 (median)", 1)]
    test = next(t for t in num["markers"][0]["tests"] if t["measure"] == "happy")
    assert test["test"] == "Welch t" and test["statistic"] is None and "2 or more" in test["reason"]


def test_no_condition_is_never_compared_with_a_named_one():
    readings = [*design(), reading("P4", None, [(0.1, .5, True)]), reading("P5", None, [(0.1, .7, True)])]
    figures = time_course(Prepared(readings, DURATION, 0.5, Grouping("condition")), MARKERS)
    assert [g["label"] for g in figures["groups"]] == ["A", "B", "(no condition)"]
    assert {tuple(t["compared"]) for t in figures["markers"][0]["tests"]} == {("A", "B")}


def test_bin_edges_and_limits():
    # a time on an edge starts the next bin, even where floats put 0.3 / 0.1 just under 3
    prepared = Prepared([reading("P1", "A", [(0.3, .5, True), (1.6, .5, True)])], 1.6, 0.1)
    rows = [r for r in bin_rows(prepared) if r["measure"] == "happy"]
    assert [(r["bin_start"], r["bin_end"]) for r in rows] == [(0.3, 0.4), (1.5, 1.6)]       # the end is in the last bin
    assert prepared.n_bins == 16
    with pytest.raises(ValueError, match="0.1 to 30 seconds"):
        check_bin(0.05, 10)
    with pytest.raises(ValueError, match="choose 0.5 s or wider"):
        check_bin(0.1, 1800)
    assert check_bin(0.5, 1800) == 0.5


def test_valence_per_frame_is_the_projects_definition():
    rng = np.random.default_rng(3)
    probs = rng.dirichlet(np.ones(7), size=50)
    got = frame_measures(probs)[:, -1]
    assert got == pytest.approx([valence(dict(zip(EMOTIONS, p))) for p in probs])


def test_marker_rows_one_per_participant_group_marker_and_measure():
    rows = list(marker_rows(Prepared(design(), DURATION, 0.5, Grouping("condition")), MARKERS))
    assert len(rows) == 3 * 2 * 8
    p2a = next(r for r in rows if r["participant"] == "P2" and r["group"] == "A" and r["measure"] == "valence")
    assert p2a == {"participant": "P2", "group": "A", "marker": "opening", "marker_start": 0.0, "marker_end": 1.0,
                   "measure": "valence", "value": pytest.approx((.5 + .3 + .5) / 3), "frames": 3}
