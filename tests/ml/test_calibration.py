"""Output biases are fitted on one part of PublicTest and their effect is reported on the other."""

import numpy as np
import pytest

from emotion.training.calibrate import choose_biases, folds, halves, held_out_effect, reliably_positive
from emotion.training.metrics import classification_report


def noise(n=700, k=7, seed=0):
    """Logits with a weak real signal and much noise, rare classes rarer: fitting on the scored
    images finds biases that look good in-sample and do little elsewhere."""
    rng = np.random.default_rng(seed)
    y = rng.choice(k, size=n, p=[0.14, 0.02, 0.14, 0.26, 0.18, 0.08, 0.18])
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), y] += 1.0
    return logits, y


def test_halves_are_disjoint_cover_everything_and_keep_each_class_share():
    y = np.repeat(np.arange(7), [40, 5, 41, 90, 60, 27, 61])
    a, b = halves(y, np.random.default_rng(0))
    assert not set(a) & set(b) and sorted(np.concatenate([a, b])) == list(range(len(y)))
    for c in range(7):
        assert abs((y[a] == c).sum() - (y[b] == c).sum()) <= 1


def test_each_split_is_used_both_ways_and_splits_differ():
    y = np.arange(200) % 7
    cuts = list(folds(y, splits=3, seed=1))
    assert len(cuts) == 6
    for (s1, fit1, held1), (s2, fit2, held2) in zip(cuts[::2], cuts[1::2]):
        assert s1 == s2 and np.array_equal(fit1, held2) and np.array_equal(held1, fit2)
        assert not set(fit1) & set(held1)
    assert not np.array_equal(cuts[0][1], cuts[2][1])


def test_effect_is_scored_on_held_out_images_only():
    logits, y = noise()
    effect = held_out_effect(logits, y, splits=3)
    rows = effect["folds"]
    assert len(rows) == 6 and all(r["fit_images"] + r["held_out_images"] == len(y) for r in rows)
    # recompute each fold's reported score from its held-out images and its bias
    for (_, fit, held), r in zip(folds(y, 3), rows):
        bias, _ = choose_biases(logits[fit], y[fit])
        assert r["bias"] == bias.tolist()
        assert r["macro_f1_after"] == pytest.approx(classification_report(y[held], (logits[held] + bias).argmax(1))["macro_f1"])
        assert r["accuracy_before"] == pytest.approx(classification_report(y[held], logits[held].argmax(1))["accuracy"])
    # in-sample the fit always looks like a gain; held out it is much smaller and not reliable
    in_sample = [choose_biases(logits[fit], y[fit])[1] for _, fit, _ in folds(y, 3)]
    gains = [f["fit_after"]["macro_f1"] - f["fit_before"]["macro_f1"] for f in in_sample]
    assert min(gains) > 0
    assert effect["effect_on_macro_f1"]["mean"] < np.mean(gains) - 0.01
    assert not reliably_positive(effect)


def test_a_real_bias_is_kept():
    # the CNN under-predicts class 1 by a constant: a bias fitted on one half fixes the other half too
    rng = np.random.default_rng(3)
    y = rng.integers(0, 7, 1400)
    logits = rng.normal(size=(1400, 7)) * 0.5
    logits[np.arange(1400), y] += 2.0
    logits[:, 1] -= 1.5
    effect = held_out_effect(logits, y, splits=3)
    assert reliably_positive(effect) and effect["effect_on_macro_f1"]["min"] > 0.02
    assert all(r["bias"][1] > 0.5 for r in effect["folds"])
