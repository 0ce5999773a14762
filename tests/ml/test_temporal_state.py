"""The shipped LSTM's state stays bounded over a long session, and late frames score as well as early
ones: a live stream runs thousands of steps without a reset."""

import numpy as np
import pytest
import torch

from emotion.ml.checkpoint import load_checkpoint
from emotion.ml.engine import DEFAULT_CHECKPOINT
from emotion.training.features import clip_frames
from emotion.training.sequences import VideoSpec, video_timelines
from emotion.training.train_common import prepare
from emotion.training.video_benchmark import gather

STEPS = 2000
CELL_BOUND = 10.0


@pytest.fixture(scope="module")
def session(fer_splits):
    """One 2,000-frame session built from 600 PublicTest faces, run frame by frame as a stream does."""
    torch.set_num_threads(1)
    model, meta = load_checkpoint(DEFAULT_CHECKPOINT)
    x, y = fer_splits["PublicTest"]
    pick = np.random.default_rng(0).permutation(len(y))[:600]
    x, y = x[pick], y[pick]
    feats, logits = clip_frames(model, prepare(x, meta["norm"]).unsqueeze(1), bf16=False)
    src, view, labels = video_timelines(y, 4, STEPS, np.random.default_rng(5), VideoSpec(views=1))
    f, lo = gather(feats, logits, src, view)
    state, cells, preds = None, [], []
    with torch.no_grad():
        for t in range(STEPS):
            refined, state = model.temporal(f[:, t:t + 1], lo[:, t:t + 1], state)
            cells.append(float(state[1].abs().max()))
            preds.append(refined[:, 0].argmax(-1).numpy())
    return np.array(cells), np.stack(preds, 1), labels


def test_cell_state_stays_bounded_over_a_long_session(session):
    cells, _, _ = session
    assert cells.max() < CELL_BOUND
    assert cells[1000:].max() < CELL_BOUND and cells[1000:].max() <= 1.5 * cells[:1000].max()


def test_late_frames_score_as_well_as_early_ones(session):
    _, preds, labels = session
    early = (preds[:, :500] == labels[:, :500]).mean()
    late = (preds[:, 1500:] == labels[:, 1500:]).mean()
    assert late >= early - 0.05
