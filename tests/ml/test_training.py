"""Training smoke runs on a small real subset: the loss goes down, an interrupted run resumes to the
same state as an uninterrupted one, resume checkpoints carry their config and load with weights_only,
and every command option is honoured or refused."""

import json
from dataclasses import asdict

import pytest
import torch

from emotion.ml.checkpoint import load_checkpoint
from emotion.ml.model import ModelConfig
from emotion.training.train import Stage1Config, main, train_stage1
from emotion.training.train_common import ConfigMismatch, config_dict
from emotion.training.train_temporal import Stage2Config, train_stage2
from tests.conftest import FER_ZIP, need

TINY = asdict(ModelConfig(widths=(8, 16, 16, 32), feature_dim=32, lstm_hidden=16))
STAGE1 = Stage1Config(epochs=3, subset=768, batch_size=64, lr=0.05, model=TINY, bf16=False)
STAGE2 = Stage2Config(epochs=2, clips_per_epoch=16, batch_size=8, clip_frames=96, chunk=32, train_faces=300,
                      val_faces=400, val_scale=0.1)


def resume_state(path):
    return torch.load(path, map_location="cpu", weights_only=True)     # must not need pickled objects


@pytest.fixture(autouse=True, scope="module")
def feature_cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("emotion.training.features.FEATURE_CACHE", tmp_path_factory.mktemp("features"))
        yield


@pytest.fixture(scope="module")
def run(tmp_path_factory, fer_splits):
    out = tmp_path_factory.mktemp("run")
    result = train_stage1(STAGE1, str(need(FER_ZIP)), out, threads=1)
    return out, result


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory, fer_splits):
    out = tmp_path_factory.mktemp("interrupted")
    first = train_stage1(STAGE1, str(need(FER_ZIP)), out, threads=1, stop_after=2)
    assert not first["finished"] and len(first["history"]) == 2
    return out, train_stage1(STAGE1, str(need(FER_ZIP)), out, threads=1)


def test_stage1_loss_goes_down_and_best_is_kept(run):
    out, result = run
    losses = [h["train_loss"] for h in result["history"]]
    assert len(losses) == 3 and losses[-1] < losses[0] - 0.05
    model, meta = load_checkpoint(out / "stage1_best.pt")
    assert meta["norm"] == "clahe" and meta["public_acc"] == result["best_public_acc"] > 0.2
    assert meta["stage1"] == config_dict(STAGE1)
    assert (out / "train.log").read_text().count("stage1 epoch") == 3


def test_resume_checkpoint_carries_its_config_and_loads_with_weights_only(run):
    out, _ = run
    ck = resume_state(out / "stage1_last.pt")
    assert ck["config"] == config_dict(STAGE1) and ck["config"]["model"]["widths"] == [8, 16, 16, 32]
    assert ck["epoch"] == 2 and len(ck["history"]) == 3 and {"model", "opt", "sched", "torch_rng"} <= set(ck)
    json.dumps(ck["config"])


def test_interrupted_stage1_resumes_to_the_same_state(run, interrupted):
    (out_a, a), (out_b, b) = run, interrupted
    assert "resumed stage 1 at epoch 2" in (out_b / "train.log").read_text()
    assert [h["train_loss"] for h in b["history"]] == [h["train_loss"] for h in a["history"]]
    sa, sb = resume_state(out_a / "stage1_last.pt"), resume_state(out_b / "stage1_last.pt")
    for name, value in sa["model"].items():
        assert torch.equal(value, sb["model"][name]), name
    assert sa["sched"]["last_epoch"] == sb["sched"]["last_epoch"] == 3 * 12
    assert sa["opt"]["param_groups"][0]["lr"] == sb["opt"]["param_groups"][0]["lr"]


def test_resuming_with_another_config_is_refused(run):
    out, _ = run
    with pytest.raises(ConfigMismatch, match="differs in: epochs"):
        train_stage1(Stage1Config(**{**asdict(STAGE1), "epochs": 5}), str(need(FER_ZIP)), out, threads=1)


def test_stage2_trains_the_temporal_head_only_and_resumes_to_the_same_state(run, tmp_path):
    out, _ = run
    before, _ = load_checkpoint(out / "stage1_best.pt")
    result = train_stage2(STAGE2, str(need(FER_ZIP)), out, threads=1)
    history = result["history"]
    assert len(history) == 2 and 0 < result["ema_alpha"] <= 1
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert {"macro_f1", "flicker_per_100", "lag_frames"} <= set(history[0]["public_clips"])
    after, meta = load_checkpoint(out / "stage2_best.pt")
    assert meta["stage"] == 2 and meta["stage2"] == config_dict(STAGE2)
    assert meta["stage2_best_epoch"] in (1, 2) and "public_smoothing" in meta
    for (name, a), b in zip(before.cnn.state_dict().items(), after.cnn.state_dict().values()):
        assert torch.equal(a, b), name                                   # the CNN stayed frozen
    assert not torch.equal(before.temporal.correct.weight, after.temporal.correct.weight)
    # the same stage 2, interrupted after its first epoch and resumed
    (tmp_path / "stage1_best.pt").write_bytes((out / "stage1_best.pt").read_bytes())
    train_stage2(STAGE2, str(need(FER_ZIP)), tmp_path, threads=1, stop_after=1)
    resumed = train_stage2(STAGE2, str(need(FER_ZIP)), tmp_path, threads=1)
    assert [h["train_loss"] for h in resumed["history"]] == [h["train_loss"] for h in history]
    sa, sb = resume_state(out / "stage2_last.pt"), resume_state(tmp_path / "stage2_last.pt")
    assert sa["config"] == config_dict(STAGE2)
    for name, value in sa["temporal"].items():
        assert torch.equal(value, sb["temporal"][name]), name


def test_stage2_without_a_stage1_checkpoint_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="run stage1 first"):
        train_stage2(STAGE2, str(need(FER_ZIP)), tmp_path)


@pytest.mark.parametrize("argv, message", [
    (["stage2", "--norm", "hist"], "--norm and --widths are stage-1 options"),
    (["stage2", "--widths", "8,16"], "--norm and --widths are stage-1 options"),
    (["stage1", "--norm", "gamma"], "--norm must be one of none, hist, clahe"),
    (["stage1", "--widths", "8,x"], "--widths takes comma-separated integers"),
    (["stage1", "--epochs", "0"], "--epochs must be positive"),
    (["stage2", "--subset", "10"], "unrecognized arguments: --subset"),
    (["stage2", "--val-clips", "10"], "unrecognized arguments: --val-clips"),
])
def test_command_refuses_options_it_cannot_honour(argv, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv + ["--data", str(tmp_path), "--out", str(tmp_path / "run")])
    assert exc.value.code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "run").exists()                               # refused before any work


def test_command_honours_stage1_options(monkeypatch, tmp_path):
    seen = {}
    monkeypatch.setattr("emotion.training.train.train_stage1", lambda cfg, *a: seen.update(cfg=cfg, args=a))
    main(["stage1", "--data", "d", "--out", str(tmp_path), "--epochs", "7", "--subset", "100", "--norm", "hist",
          "--seed", "3", "--widths", "8,16", "--threads", "1", "--stop-after", "2"])
    cfg = seen["cfg"]
    assert (cfg.epochs, cfg.subset, cfg.norm, cfg.seed, cfg.model["widths"]) == (7, 100, "hist", 3, [8, 16])
    assert seen["args"] == ("d", tmp_path, 1, 2, "cpu")
