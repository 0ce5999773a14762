"""The route to a better student of v1's cost: the distillation loss, mixup/cutmix, the weight
average, and a distilled stage-1 run that learns and resumes to the same state."""

from dataclasses import asdict, replace

import pytest
import torch
import torch.nn.functional as F

from emotion.ml.checkpoint import load_checkpoint
from emotion.training.distill import Teachers, distillation_loss, mix_batch, soft_targets
from emotion.ml.model import ModelConfig
from emotion.training.train import Stage1Config, main, train_stage1
from tests.conftest import FER_ZIP, need

TINY = asdict(ModelConfig(widths=(8, 16, 16, 32), feature_dim=32, lstm_hidden=16))
TEACHER = Stage1Config(epochs=2, subset=768, batch_size=64, lr=0.05, model=TINY, bf16=False)


def test_distillation_loss_is_cross_entropy_without_teachers_and_pulls_towards_them():
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]], requires_grad=True)
    targets = soft_targets(torch.tensor([0, 1]), 3, 0.1)
    plain = F.cross_entropy(logits, torch.tensor([0, 1]), label_smoothing=0.1)
    assert torch.allclose(distillation_loss(logits, targets, None, 0.7, 4.0), plain)
    # a teacher that agrees with the student at the temperature adds nothing
    same = (logits.detach() / 4.0).softmax(-1)
    assert torch.allclose(distillation_loss(logits, targets, same, 0.5, 4.0), 0.5 * plain)
    # one that prefers class 2 pulls the student's class-2 logit up
    teacher = torch.tensor([[0.1, 0.1, 0.8], [0.1, 0.1, 0.8]])
    distillation_loss(logits, targets, teacher, 1.0, 4.0).backward()
    assert (logits.grad[:, 2] < 0).all()


def test_mixup_and_cutmix_mix_targets_as_they_mix_faces():
    # face i is a flat image of value i with label i, so a mixed face's mean tells how much of each it holds
    x = torch.stack([torch.full((1, 48, 48), float(i)) for i in range(8)])
    y = soft_targets(torch.arange(8), 8, 0.0)
    for cutmix in (0.0, 1.0):
        xm, ym = mix_batch(x, y, torch.Generator().manual_seed(3), 0.4, cutmix)
        again = mix_batch(x, y, torch.Generator().manual_seed(3), 0.4, cutmix)
        assert torch.equal(xm, again[0]) and torch.equal(ym, again[1])              # replayable from the seed
        assert torch.allclose(ym.sum(1), torch.ones(8))
        assert torch.allclose(xm.mean((1, 2, 3)), (ym * torch.arange(8.0)).sum(1), atol=1e-5)
        assert not torch.equal(xm, x)
        pure = torch.stack([torch.isin(xm[i], torch.arange(8.0)).all() for i in range(8)]).all()
        assert bool(pure) == bool(cutmix)                    # cutmix pastes pixels, mixup blends them


def test_options_that_cannot_work_together_are_refused(tmp_path, capsys):
    for argv, message in ((["--distill", "0.5"], "needs both teachers (--teachers or --soft-targets) and a weight"),
                          (["--teachers", "a.pt"], "needs both teachers (--teachers or --soft-targets) and a weight"),
                          (["--mix-alpha", "-1"], "--mix-alpha must be 0 or more"),
                          (["--ema", "1.0"], "--ema from 0 to below 1")):
        with pytest.raises(SystemExit):
            main(["stage1", "--data", "d", "--out", str(tmp_path / "run")] + argv)
        assert message in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_command_passes_the_distillation_options_on(monkeypatch, tmp_path):
    seen = {}
    monkeypatch.setattr("emotion.training.train.train_stage1", lambda cfg, *a: seen.update(cfg=cfg, args=a))
    main(["stage1", "--data", "d", "--out", str(tmp_path), "--teachers", "a.pt,b.pt", "--distill", "0.7",
          "--temperature", "3", "--mix-alpha", "0.4", "--cutmix", "0.25", "--ema", "0.999", "--device", "cuda"])
    cfg = seen["cfg"]
    assert (cfg.teachers, cfg.distill, cfg.temperature, cfg.mix_alpha, cfg.cutmix, cfg.ema_decay) == \
        (["a.pt", "b.pt"], 0.7, 3.0, 0.4, 0.25, 0.999)
    assert seen["args"][-1] == "cuda"


@pytest.fixture(scope="module")
def teacher(tmp_path_factory, fer_splits):
    out = tmp_path_factory.mktemp("teacher")
    train_stage1(TEACHER, str(need(FER_ZIP)), out, threads=1)
    return out / "stage1_best.pt"


def test_a_teacher_must_see_faces_as_the_student_does(teacher):
    with pytest.raises(ValueError, match="must see the faces as the student does"):
        Teachers([str(teacher)], "hist")
    with pytest.raises(FileNotFoundError):
        Teachers([str(teacher.parent / "missing.pt")], "clahe")


def test_distilled_run_learns_and_resumes_to_the_same_state(teacher, tmp_path):
    cfg = replace(TEACHER, epochs=3, teachers=[str(teacher)], distill=0.5, mix_alpha=0.4, ema_decay=0.9)
    whole = train_stage1(cfg, str(need(FER_ZIP)), tmp_path / "whole", threads=1)
    losses = [h["train_loss"] for h in whole["history"]]
    assert losses[-1] < losses[0] and whole["best_public_acc"] > 0.2
    train_stage1(cfg, str(need(FER_ZIP)), tmp_path / "cut", threads=1, stop_after=1)
    cut = train_stage1(cfg, str(need(FER_ZIP)), tmp_path / "cut", threads=1)
    assert [h["train_loss"] for h in cut["history"]] == losses
    a = torch.load(tmp_path / "whole" / "stage1_last.pt", weights_only=True)
    b = torch.load(tmp_path / "cut" / "stage1_last.pt", weights_only=True)
    for name, value in a["average"].items():
        assert torch.equal(value, b["average"][name]), name
    # the saved model is the weight average, not the raw weights
    saved, meta = load_checkpoint(tmp_path / "whole" / "stage1_best.pt")
    assert meta["stage1"]["teachers"] == [str(teacher)]
    raw = {k: v for k, v in a["model"].items() if k.startswith("cnn.")}
    assert any(not torch.equal(saved.state_dict()[k], v) for k, v in raw.items() if v.is_floating_point())


def test_continued_training_starts_from_the_given_weights_and_refuses_another_cnn(teacher, tmp_path):
    _, meta = load_checkpoint(teacher)
    cont = train_stage1(replace(TEACHER, epochs=1, lr=1e-6, init=str(teacher)), str(need(FER_ZIP)), tmp_path / "c",
                        threads=1)
    assert abs(cont["best_public_acc"] - meta["public_acc"]) < 0.03        # where the teacher was, not at chance
    wider = replace(TEACHER, init=str(teacher), model={**TINY, "widths": (8, 16, 16, 64)})
    with pytest.raises(ValueError, match="continues the same network"):
        train_stage1(wider, str(need(FER_ZIP)), tmp_path / "w", threads=1)
    # the same network may learn to read faces normalised another way (a teacher of other mistakes)
    other = train_stage1(replace(TEACHER, epochs=1, lr=1e-6, init=str(teacher), norm="none"), str(need(FER_ZIP)),
                         tmp_path / "n", threads=1)
    started, other_meta = load_checkpoint(tmp_path / "n" / "stage1_best.pt")
    parent = load_checkpoint(teacher)[0].cnn.state_dict()
    assert other_meta["norm"] == "none" and other["finished"]
    learned = [k for k in parent if k.endswith("weight")]
    assert learned and all(torch.allclose(started.cnn.state_dict()[k], parent[k], atol=1e-4) for k in learned)
