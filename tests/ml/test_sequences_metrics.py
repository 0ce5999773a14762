import numpy as np
import torch

from emotion.training.evaluate import flicker_per_100, mean_lag
from emotion.training.metrics import classification_report
from emotion.training.sequences import ClipSpec, make_clips
from emotion.training.video_benchmark import ema_probs


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
    from emotion.training.sequences import _expression_timeline
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
    from emotion.training.sequences import _detected_frames
    keep = _detected_frames(500, 24, torch.Generator().manual_seed(0), ClipSpec(miss_rate=0.1))
    steps = keep[:, 1:] - keep[:, :-1]
    assert set(steps.unique().tolist()) == {1, 2}
    assert 0.05 < float((steps == 2).float().mean()) < 0.15


def test_video_timelines_hold_expressions_for_seconds_and_swap_people_within_one():
    from emotion.training.sequences import VideoSpec, video_timelines
    labels = np.arange(700) % 7
    spec = VideoSpec(views=6, min_segment=40, max_segment=200, swap_rate=0.01)
    src, view, y = video_timelines(labels, 30, 1000, np.random.default_rng(0), spec)
    again = video_timelines(labels, 30, 1000, np.random.default_rng(0), spec)
    assert all(np.array_equal(a, b) for a, b in zip((src, view, y), again))
    assert src.shape == view.shape == y.shape == (30, 1000)
    assert np.array_equal(labels[src], y)                         # every frame shows a face of its label
    swaps_keeping_label = 0
    for s, yy in zip(src, y):
        cuts = np.flatnonzero(yy[1:] != yy[:-1]) + 1
        runs = np.diff(np.concatenate([[0], cuts, [len(yy)]]))
        assert (runs[1:-1] >= 40).all() and (runs <= 200).all()   # inner expressions last 40 to 200 frames
        face_changes = np.flatnonzero(s[1:] != s[:-1]) + 1
        assert set(cuts) <= set(face_changes)                      # FER2013: a new expression is a new face
        swaps_keeping_label += len(set(face_changes) - set(cuts))
    assert swaps_keeping_label > 100                               # ... but most new faces keep the label
    steps = np.abs(np.diff(view, axis=1))
    assert steps.max() == 1 and 0.3 < (steps == 0).mean() < 0.7   # the camera view drifts one step at most
    assert view.min() == 0 and view.max() == 5


def test_face_views_are_consecutive_frames_of_one_face():
    from emotion.training.sequences import face_views
    faces = torch.rand(20, 1, 48, 48)
    views = face_views(faces, 6, torch.Generator().manual_seed(0))
    assert views.shape == (20, 6, 1, 48, 48) and float(views.min()) >= 0 and float(views.max()) <= 1
    same = (views[:, 1] - views[:, 0]).abs().mean()
    other = (views[1:, 0] - views[:-1, 0]).abs().mean()
    assert same < other


def test_pooled_scores_over_groups_of_clips():
    from emotion.training.video_benchmark import beats, score, window_accuracy
    y1, p1 = np.array([[0, 0, 1, 1]]), np.array([[0, 0, 0, 1]])
    y2, p2 = np.zeros((1, 600), int), np.zeros((1, 600), int)
    p2[0, 550:] = 3
    row = score([p1, p2], [y1, y2])
    assert row["flicker_per_100"] == 100 * 2 / (3 + 599) and row["lag_frames"] == 1
    assert row["frame_accuracy"] == (3 + 550) / 604
    assert window_accuracy([p1, p2], [y1, y2], (0, 100)) == 1.0          # only the long clip has frames 0-99
    assert window_accuracy([p1, p2], [y1, y2], (500, 1000)) is None      # and none reaches frame 999
    good = {"macro_f1": 0.6, "flicker_per_100": 2.0, "lag_frames": 3.0}
    assert beats(good, [{"macro_f1": 0.5, "flicker_per_100": 3.0, "lag_frames": 4.0}])
    assert not beats(good, [{"macro_f1": 0.5, "flicker_per_100": 1.0, "lag_frames": 4.0}])


def _one_hot_run(accuracy_at):
    """A fake method whose chance of being right at frame t (of its own stream) is accuracy_at(t)."""
    def run(feats, logits):
        rng = np.random.default_rng(0)
        n, t = feats.shape[:2]
        truth = feats[..., 0].numpy().astype(int)            # the tests put the label in feature 0
        right = rng.random((n, t)) < accuracy_at(np.arange(t))
        pred = np.where(right, truth, (truth + 1) % 7)
        return np.eye(7)[pred]
    return run


def _long_clips(n=40, length=1200):
    y = np.random.default_rng(1).integers(0, 7, (n, length))
    feats = torch.from_numpy(y).float().unsqueeze(-1)
    return [(feats, torch.zeros(n, length, 7))], [y]


def test_drift_check_compares_the_same_frames_with_fresh_streams():
    from emotion.training.video_benchmark import holds_up_late, run_row
    inputs, ys = _long_clips()
    steady = run_row(_one_hot_run(lambda t: np.full(t.shape, 0.7)), inputs, ys, margin=0.0)
    assert abs(steady["accuracy_500_to_1000"] - steady["accuracy_500_to_1000_fresh_streams"]) < 0.01
    assert abs(steady["accuracy_500_to_1000"] - 0.7) < 0.01
    # a state that degrades with its age: right at first, worse the longer the stream runs
    drifting = run_row(_one_hot_run(lambda t: np.clip(0.9 - t / 2000, 0, 1)), inputs, ys, margin=0.0)
    assert drifting["accuracy_500_to_1000_fresh_streams"] > drifting["accuracy_500_to_1000"] + 0.2
    assert drifting["late_minus_fresh"] < -0.2 < 0 < drifting["late_minus_fresh_se"] < 0.05
    assert not holds_up_late(drifting) and holds_up_late(steady)
    assert holds_up_late({"late_minus_fresh": -0.001, "late_minus_fresh_se": 0.003})       # within noise
    assert not holds_up_late({"late_minus_fresh": None, "late_minus_fresh_se": None})


def test_training_streams_carry_or_drop_their_state_between_clips():
    from emotion.training.train_temporal import carried_state
    h, c = torch.ones(1, 3, 4), torch.full((1, 3, 4), 2.0)
    h2, c2 = carried_state((h, c), torch.tensor([True, False, True]))
    assert torch.equal(h2[0, 1], torch.zeros(4)) and torch.equal(c2[0, 0], c[0, 0]) and torch.equal(c2[0, 2], c[0, 2])
    assert carried_state(None, torch.tensor([True])) is None


def test_frames_just_after_a_change_of_expression_weigh_more():
    from emotion.training.train_temporal import Stage2Config, stage2_loss, switch_weights
    cfg = Stage2Config(switch=2.0, switch_frames=3, stability=0.0, state_penalty=0.0)
    y = np.array([[0, 0, 1, 1, 1, 1, 2], [5, 5, 5, 5, 5, 5, 5]])
    w = switch_weights(y, cfg)
    assert w[0].tolist() == [1, 1, 3, 3, 3, 1, 3] and w[1].tolist() == [1] * 7    # a clip's start is no change
    # a frame wrong right after a change costs more than the same mistake later on
    logits = torch.zeros(1, 7, 7)
    logits[0, :, 0] = 5.0                                                            # always says 0
    yt = torch.from_numpy(y[:1])
    c = torch.zeros(1, 1, 4)
    plain, _ = stage2_loss(logits, yt, c, None, cfg)
    weighted, _ = stage2_loss(logits, yt, c, None, cfg, w[:1])
    assert weighted > plain


def test_shown_label_holds_through_a_near_tie_and_follows_a_clear_change():
    from emotion.ml.labelling import hysteresis_labels
    probs = np.zeros((1, 60, 7))
    probs[0, :, 3], probs[0, :, 6] = 0.45, 0.40
    probs[0, 1:40:2, 3], probs[0, 1:40:2, 6] = 0.40, 0.45          # a near tie whose argmax flips every frame
    probs[0, 40:, 3], probs[0, 40:, 6] = 0.1, 0.8                   # then a clear change
    shown = hysteresis_labels(probs)[0]                            # the shipped rule
    assert (probs[0].argmax(-1)[:40] != probs[0].argmax(-1)[1:41]).sum() >= 30
    assert (shown[:40] == 3).all() and (shown[40:] == 6).all()
