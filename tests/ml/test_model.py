import numpy as np
import torch

from emotion.ml.checkpoint import load_checkpoint, save_checkpoint
from emotion.ml.model import EmotionNet, ModelConfig
from emotion.ml.normalize import METHODS, equalize, standardize, to_tensor

SMALL = ModelConfig(widths=(8, 16, 16, 32), feature_dim=32, lstm_hidden=16)


def test_shapes_of_a_batch_of_clips():
    torch.manual_seed(0)
    model = EmotionNet(SMALL).eval()
    refined, per_frame, (h, c) = model(torch.randn(3, 5, 1, 48, 48))
    assert refined.shape == per_frame.shape == (3, 5, 7)
    assert h.shape == c.shape == (1, 3, 16)


def test_temporal_head_starts_as_the_cnn():
    # the correction layer is zero at initialisation: before stage 2 the model is the per-frame CNN
    model = EmotionNet(SMALL).eval()
    refined, per_frame, _ = model(torch.randn(2, 4, 1, 48, 48))
    torch.testing.assert_close(refined, per_frame)


def test_state_carries_over_frame_by_frame():
    torch.manual_seed(0)
    model = EmotionNet(SMALL).eval()
    torch.nn.init.normal_(model.temporal.correct.weight)     # a trained-looking head
    clip = torch.randn(2, 6, 1, 48, 48)
    with torch.no_grad():
        whole, _, _ = model(clip)
        state, steps = None, []
        for t in range(6):
            out, _, state = model(clip[:, t:t + 1], state)
            steps.append(out)
        fresh, _, _ = model(clip[:, 5:6])                     # the last frame without its history
    torch.testing.assert_close(torch.cat(steps, 1), whole, atol=1e-5, rtol=1e-4)
    assert not torch.allclose(fresh[:, 0], whole[:, 5], atol=1e-4)


def test_checkpoint_round_trip_with_weights_only(tmp_path):
    model = EmotionNet(SMALL).eval()
    save_checkpoint(tmp_path / "m.pt", model, {"norm": "none", "note": "test"})
    loaded, meta = load_checkpoint(tmp_path / "m.pt")         # uses torch.load(weights_only=True)
    assert meta == {"norm": "none", "note": "test"} and loaded.cfg == SMALL
    x = torch.randn(1, 2, 1, 48, 48)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x)[0], model(x)[0])


def test_standardize_removes_brightness_and_contrast():
    rng = np.random.default_rng(0)
    face = rng.integers(30, 200, (1, 48, 48)).astype(np.uint8)
    darker = (face * 0.5).astype(np.uint8)
    a, b = to_tensor(face, "none"), to_tensor(darker, "none")
    assert a.shape == (1, 1, 48, 48)
    assert abs(float(a.mean())) < 1e-4 and abs(float(a.std()) - 1) < 1e-2
    assert float((a - b).abs().mean()) < 0.05
    assert torch.allclose(standardize(torch.ones(1, 48, 48)), torch.zeros(1, 48, 48))  # flat: no NaN


def test_equalize_methods():
    rng = np.random.default_rng(1)
    faces = rng.integers(100, 140, (2, 48, 48)).astype(np.uint8)   # a low-contrast face
    for m in METHODS:
        out = equalize(faces, m)
        assert out.shape == faces.shape and out.dtype == np.uint8
    assert np.ptp(equalize(faces, "hist")) > np.ptp(faces)
    assert equalize(faces[:0], "clahe").shape == (0, 48, 48)


def test_cell_limit_bounds_the_state_a_stream_carries():
    from dataclasses import asdict, replace
    torch.manual_seed(0)
    free = EmotionNet(SMALL).eval()
    with torch.no_grad():
        free.temporal.lstm.bias_ih_l0[:48].fill_(20.0)   # input and forget gates open, cell input 1: an integrator
    bounded = EmotionNet(replace(SMALL, cell_limit=2.0)).eval()
    bounded.load_state_dict(free.state_dict())
    feats, logits = torch.rand(1, 1, SMALL.feature_dim), torch.randn(1, 1, 7)
    state_free = state_bounded = None
    with torch.no_grad():
        for _ in range(200):
            _, state_free = free.temporal(feats, logits, state_free)
            _, state_bounded = bounded.temporal(feats, logits, state_bounded)
    assert float(state_free[1].abs().max()) > 20                        # grows without a limit
    assert float(state_bounded[1].abs().max()) <= 2.0
    old = {k: v for k, v in asdict(SMALL).items() if k != "cell_limit"}  # checkpoints from before the field
    assert ModelConfig.from_dict(old).cell_limit == 0.0
