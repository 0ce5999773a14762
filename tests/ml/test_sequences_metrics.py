import numpy as np
import torch

from emotion.ml.evaluate import flicker_per_100, mean_lag
from emotion.ml.metrics import classification_report
from emotion.ml.sequences import ClipSpec, make_clips
from emotion.ml.train_temporal import ema_probs


def test_clips_are_reproducible_and_change_expression():
    faces = torch.rand(50, 1, 48, 48)
    labels = torch.arange(50) % 7
    a, ya = make_clips(faces, labels, 64, torch.Generator().manual_seed(1))
    b, yb = make_clips(faces, labels, 64, torch.Generator().manual_seed(1))
    assert a.shape == (64, 24, 1, 48, 48) and ya.shape == (64, 24)
    assert torch.equal(a, b) and torch.equal(ya, yb)
    assert float(a.min()) >= 0 and float(a.max()) <= 1
    changes = (ya[:, 1:] != ya[:, :-1]).sum(1)
    assert (changes == 0).any() and (changes >= 1).any()   # some clips hold one expression, others change
    # consecutive frames of a clip look alike (same face, small jitter); different clips do not
    same = (a[:, 1] - a[:, 0]).abs().mean()
    other = (a[1:, 0] - a[:-1, 0]).abs().mean()
    assert same < other


def test_clip_spec_segments_respect_minimum_length():
    labels = torch.arange(7)
    _, y = make_clips(torch.rand(7, 1, 48, 48), labels, 200, torch.Generator().manual_seed(0),
                      ClipSpec(miss_rate=0.0, fade=0))
    for row in y.numpy():
        cuts = np.flatnonzero(row[1:] != row[:-1]) + 1
        runs = np.diff(np.concatenate([[0], cuts, [len(row)]]))
        assert (runs[1:-1] >= 5).all()      # inner segments are whole; the ends may be clipped


def test_report_on_known_predictions():
    rep = classification_report(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]))
    assert rep["accuracy"] == 0.75
    assert rep["confusion"][0][:2] == [1, 1] and rep["confusion"][1][:2] == [0, 2]
    assert abs(rep["per_class_f1"]["angry"] - 2 / 3) < 1e-9 and abs(rep["per_class_f1"]["disgust"] - 0.8) < 1e-9


def test_flicker_and_lag():
    true = np.array([[0, 0, 0, 3, 3, 3, 3, 3]])
    steady_late = np.array([[0, 0, 0, 0, 0, 3, 3, 3]])
    jumpy = np.array([[0, 1, 0, 3, 4, 3, 4, 3]])
    assert mean_lag(steady_late, true) == 2 and mean_lag(jumpy, true) == 0
    assert flicker_per_100(steady_late) < flicker_per_100(jumpy)
    assert mean_lag(np.zeros_like(true), true) == 5      # never followed: the whole span counts


def test_ema_smoothing():
    p = np.zeros((1, 3, 2)); p[0, :, 0] = [1, 0, 0]; p[0, :, 1] = [0, 1, 1]
    out = ema_probs(p, 0.5)
    np.testing.assert_allclose(out[0, :, 1], [0, 0.5, 0.75])
    np.testing.assert_allclose(ema_probs(p, 1.0), p)


def test_cross_fade_weights_and_labels_switch_half_way():
    from emotion.ml.sequences import _expression_timeline
    spec = ClipSpec(fade=3, max_segments=2)
    keep = torch.arange(24).view(1, -1).expand(400, 24)
    labels = torch.arange(7)
    src_a, src_b, w, lab = _expression_timeline(labels, keep, torch.Generator().manual_seed(0), spec)
    changed = 0
    for a, b, ww, y in zip(src_a, src_b, w, lab):
        assert torch.equal(y, torch.where(ww > 0.5, labels[b], labels[a]))
        if a[0] == a[-1]:                        # one expression (or the same face drawn twice)
            continue
        changed += 1
        cut = int((a != a[0]).nonzero()[0])
        ramp = ww[:cut][ww[:cut] > 0]
        assert (ramp[1:] > ramp[:-1]).all() and len(ramp) <= 3 and (ramp < 1).all()
        assert cut >= spec.min_segment and 24 - cut >= spec.min_segment
    assert 100 < changed < 300                   # about half the clips change expression


def test_missed_detections_skip_ahead_in_time():
    from emotion.ml.sequences import _detected_frames
    keep = _detected_frames(500, 24, torch.Generator().manual_seed(0), ClipSpec(miss_rate=0.1))
    steps = keep[:, 1:] - keep[:, :-1]
    assert set(steps.unique().tolist()) == {1, 2}
    assert 0.05 < float((steps == 2).float().mean()) < 0.15
