"""Training smoke runs on a small real subset: the loss goes down, checkpoints resume, stage 2 runs."""

import json
from dataclasses import asdict

import pytest
import torch

from emotion.ml.checkpoint import load_checkpoint
from emotion.ml.model import ModelConfig
from emotion.ml.train import Stage1Config, train_stage1
from emotion.ml.train_temporal import Stage2Config, train_stage2
from tests.conftest import FER_ZIP, need

TINY = asdict(ModelConfig(widths=(8, 16, 16, 32), feature_dim=32, lstm_hidden=16))


@pytest.fixture(scope="module")
def run(tmp_path_factory, fer_splits):
    out = tmp_path_factory.mktemp("run")
    cfg = Stage1Config(epochs=4, subset=1024, batch_size=64, lr=0.05, model=TINY, bf16=False)
    result = train_stage1(cfg, str(need(FER_ZIP)), out, threads=1)
    return out, cfg, result


def test_stage1_loss_goes_down_and_best_is_kept(run):
    out, _, result = run
    losses = [h["train_loss"] for h in result["history"]]
    assert len(losses) == 4 and losses[-1] < losses[0] - 0.05
    model, meta = load_checkpoint(out / "stage1_best.pt")
    assert meta["norm"] == "clahe" and meta["public_acc"] == result["best_public_acc"] > 0.2
    assert (out / "train.log").read_text().count("stage1 epoch") >= 4


def test_stage1_resumes_from_its_last_epoch(run):
    out, cfg, _ = run
    cfg = Stage1Config(**{**asdict(cfg), "epochs": 5})
    result = train_stage1(cfg, str(need(FER_ZIP)), out, threads=1)
    assert [h["epoch"] for h in result["history"]] == [1, 2, 3, 4, 5]
    assert "resumed stage 1 at epoch 4" in (out / "train.log").read_text()


def test_stage2_trains_the_temporal_head_only(run):
    out, _, _ = run
    before, _ = load_checkpoint(out / "stage1_best.pt")
    cfg = Stage2Config(epochs=2, clips_per_epoch=64, batch_size=16, val_clips=32, bf16=False)
    result = train_stage2(cfg, str(need(FER_ZIP)), out, threads=1)
    assert len(result["history"]) == 2 and 0 < result["ema_alpha"] <= 1
    after, meta = load_checkpoint(out / "stage2_best.pt")
    assert meta["stage"] == 2 and "clip" in meta["stage2"]
    for (name, a), b in zip(before.cnn.state_dict().items(), after.cnn.state_dict().values()):
        assert torch.equal(a, b), name                                   # the CNN stayed frozen
    assert not torch.equal(before.temporal.correct.weight, after.temporal.correct.weight)
    json.dumps(result["history"])                                        # the history is plain data
