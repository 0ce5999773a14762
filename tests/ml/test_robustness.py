"""Readings that hold up on real cameras: the degradation suite is deterministic, training never
draws the suite's own settings, the noise estimate follows added noise, the reliability rule flags
noisy, compressed, blurred and dark faces, stored soft targets are checked, and a robust stage-1
run resumes to the same state."""

import json
import shutil
from dataclasses import asdict, replace

import cv2
import numpy as np
import pytest
import torch

from emotion.ml import quality
from emotion.training import degrade, metrics, robustness, soft_targets
from emotion.ml.model import ModelConfig
from emotion.training.train import Stage1Config, train_stage1
from tests.conftest import FER_ZIP, MEDIA, need

TINY = asdict(ModelConfig(widths=(8, 16, 16, 32), feature_dim=32, lstm_hidden=16))
SHIPPED_TARGETS = soft_targets.SOFT_TARGET_DIR / "v1.2.npz"


@pytest.fixture(scope="module")
def public_sample(fer_splits):
    x, y = fer_splits["PublicTest"]
    idx = np.random.default_rng(5).permutation(len(y))[:400]
    return x[idx], y[idx]


def test_the_suite_is_the_same_on_every_run_and_each_condition_draws_its_own(public_sample):
    faces = public_sample[0][:64]
    names = [c.name for c in degrade.SUITE]
    assert len(set(names)) == len(names)
    for cond in degrade.SUITE:
        a, b = degrade.degrade_all(faces, cond, 1), degrade.degrade_all(faces, cond, 1)
        assert a.dtype == np.uint8 and a.shape == faces.shape and np.array_equal(a, b), cond.name
    noisy = degrade.conditions(["gaussian noise 15"])[0]
    assert not np.array_equal(degrade.degrade_all(faces, noisy, 1), degrade.degrade_all(faces, noisy, 2))
    with pytest.raises(ValueError, match="unknown suite conditions"):
        degrade.conditions(["gaussian noise 16"])


def test_training_never_draws_the_suites_integer_settings():
    rng = np.random.default_rng(0)
    for kind, draw in degrade.TRAINING_DRAWS.items():
        values = {draw.sample(rng) for _ in range(3000)}
        assert min(values) >= draw.low - 0.5 and max(values) <= draw.high + 0.5, kind
        suite_values = {c.value for c in degrade.SUITE if c.kind == kind}
        if draw.integer:
            assert not values & suite_values, kind


def test_random_degradations_change_about_the_share_asked(public_sample):
    faces = public_sample[0][:200]
    out = degrade.random_degradations(faces, np.random.default_rng(1), 0.5)
    changed = np.mean([not np.array_equal(a, b) for a, b in zip(faces, out)])
    assert 0.35 < changed < 0.65
    assert np.array_equal(degrade.random_degradations(faces, np.random.default_rng(1), 0.0), faces)


def test_the_noise_estimate_follows_added_noise_and_not_the_face(public_sample):
    faces = public_sample[0][:100]
    base = np.median([quality.noise(f) for f in faces])
    assert base < 8                                  # a clean face's texture reads as little noise
    for sigma in (10, 20, 30):
        cond = degrade.Condition("n", "noise", "gaussian_noise", sigma)
        est = np.median([quality.noise(f) for f in degrade.degrade_all(faces, cond, 3)])
        assert abs(est - np.hypot(base, sigma)) < 0.25 * sigma, (sigma, est)


def test_temperature_scaling_keeps_the_label_and_fixes_overconfidence():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 7, 4000)
    logits = rng.normal(0, 1, (4000, 7))
    logits[np.arange(4000), y] += 1.5
    # with unit Gaussian logits shifted by 1.5 on the true class, the true posterior is softmax(1.5 z):
    # probabilities made from 3 z are overconfident by a temperature of 3 / 1.5 = 2
    sharp = np.exp(logits * 3) / np.exp(logits * 3).sum(1, keepdims=True)
    t = metrics.fit_temperature(sharp, y)
    assert 1.85 < t < 2.15
    fixed = quality.calibrated(sharp, t)
    assert (fixed.argmax(1) == sharp.argmax(1)).all()
    assert metrics.ece(fixed, y) < metrics.ece(sharp, y) / 3


def test_the_rule_refuses_faces_noisier_blurrier_darker_or_smaller_than_the_suite_holds(public_sample):
    """Whatever the model's confidence, the guards hold: measured on real faces pushed past the
    suite's harshest conditions."""
    faces = public_sample[0][:100]

    def measures(batch):
        return [(quality.sharpness(f), quality.brightness(f), quality.noise(f)) for f in batch]

    def reliable(batch, size=48):
        return [quality.is_reliable("detected", size, sh, br, nz, 0.99) for sh, br, nz in measures(batch)]

    assert np.mean(reliable(faces)) > 0.95                         # clean, sure: reliable
    cond = degrade.Condition("x", "noise", "gaussian_noise", 70)
    assert not any(reliable(degrade.degrade_all(faces, cond, 4)))  # reads as noise above MAX_NOISE
    dark = degrade.degrade_all(faces, degrade.Condition("x", "exposure", "exposure", 0.03), 4)
    assert not any(reliable(dark))
    blurred = degrade.degrade_all(faces, degrade.Condition("x", "blur", "gaussian_blur", 5.0), 4)
    assert np.mean(reliable(blurred)) < 0.05
    assert not any(reliable(faces, size=12))
    assert not quality.is_reliable("tracked", 100, 500.0, 120.0, 5.0, 0.99)
    assert not quality.is_reliable("detected", 100, 500.0, 120.0, 5.0, quality.MIN_CONFIDENCE - 0.01)


def test_a_real_smile_reads_the_same_through_heavy_sensor_noise(engine):
    """The portrait's smile, and the same portrait small and noisy (grey-level noise of 60, about as
    much as a face can carry before the detector stops finding it): both read happy, and reliable."""
    img = cv2.imread(str(need(MEDIA / "obama.jpg")))
    clean = engine.analyze_image(img)
    assert len(clean) == 1 and clean[0].reliable and clean[0].dominant == "happy" and clean[0].noise < 10
    small = cv2.resize(img, (182, 227), interpolation=cv2.INTER_AREA)    # a face of about 60 px
    noisy = np.clip(small + np.random.default_rng(0).normal(0, 60, small.shape[:2])[..., None], 0, 255)
    found = engine.analyze_image(noisy.astype(np.uint8))
    assert len(found) == 1 and found[0].noise > 15 and found[0].dominant == "happy" and found[0].reliable


def test_reliable_readings_stay_right_under_noise_compression_blur_and_darkness(engine, public_sample):
    faces, y = public_sample
    rule = robustness.Rule()
    conds = degrade.conditions(["clean", "gaussian noise 15", "gaussian noise 25", "jpeg q10", "webp q5",
                                "gaussian blur 1.5", "captured at 16 px", "underexposed x0.35"])
    readings = robustness.read_suite(engine, faces, robustness.SEEDS["PublicTest"], conds)
    table = robustness.suite_table(readings, y, rule, engine.temperature)
    assert table["clean"]["reliable_share"] >= 0.8
    for name, row in table.items():
        if row["reliable_share"] * len(y) >= 40:      # too few kept to judge otherwise
            assert row["reliable_accuracy"] >= 0.6, (name, row)


def test_soft_targets_load_only_when_they_match_their_checksum(tmp_path, fer_splits):
    stored = sorted(soft_targets.SOFT_TARGET_DIR.glob("*.npz"))
    assert SHIPPED_TARGETS in stored
    for path in stored:                                     # every committed teacher matches its record
        assert soft_targets.sha256(path) == json.loads(path.with_suffix(".json").read_text())["sha256"], path
        assert soft_targets.load(path)["Training"].shape == (len(fer_splits["Training"][1]), 7)
    record = json.loads(SHIPPED_TARGETS.with_suffix(".json").read_text())
    loaded = soft_targets.load(SHIPPED_TARGETS)
    for split in ("Training", "PublicTest"):
        assert loaded[split].shape == (len(fer_splits[split][1]), 7)
    assert record["scores"]["PublicTest"]["accuracy"] > 0.6
    bad = tmp_path / "v1.2.npz"
    shutil.copy(SHIPPED_TARGETS.with_suffix(".json"), tmp_path / "v1.2.json")
    arrays = dict(loaded)
    arrays["Training"] = arrays["Training"].copy()
    arrays["Training"][0, 0] += 1
    np.savez_compressed(bad, **{k: v.astype(np.float16) for k, v in arrays.items()})
    with pytest.raises(ValueError, match="checksum"):
        soft_targets.load(bad)


def test_stored_soft_targets_reproduce_their_teachers_scores(fer_splits):
    record = json.loads(SHIPPED_TARGETS.with_suffix(".json").read_text())
    logits = soft_targets.load(SHIPPED_TARGETS)
    for split in ("Training", "PublicTest"):
        acc = float((logits[split].argmax(1) == fer_splits[split][1]).mean())
        assert abs(acc - record["scores"][split]["accuracy"]) < 0.002, split


def test_a_robust_run_with_stored_targets_resumes_to_the_same_state(tmp_path):
    cfg = Stage1Config(epochs=3, subset=512, batch_size=64, lr=0.05, model=TINY, bf16=False, ema_decay=0.9,
                       soft_targets=[str(SHIPPED_TARGETS)], distill=0.5, degrade=0.6)
    whole = train_stage1(cfg, str(need(FER_ZIP)), tmp_path / "whole", threads=1)
    assert all("public_degraded_acc" in h for h in whole["history"])
    train_stage1(cfg, str(need(FER_ZIP)), tmp_path / "cut", threads=1, stop_after=2)
    cut = train_stage1(cfg, str(need(FER_ZIP)), tmp_path / "cut", threads=1)
    assert [h["train_loss"] for h in cut["history"]] == [h["train_loss"] for h in whole["history"]]
    a = torch.load(tmp_path / "whole" / "stage1_last.pt", weights_only=True)
    b = torch.load(tmp_path / "cut" / "stage1_last.pt", weights_only=True)
    for name, value in a["model"].items():
        assert torch.equal(value, b["model"][name]), name
    # a teacher's targets may be read from its last epoch's weight average rather than its best epoch
    last, meta = soft_targets.last_epoch(tmp_path / "whole" / "stage1_best.pt")
    assert meta["epoch"] == 3
    for name, value in last.cnn.state_dict().items():
        assert torch.equal(value, a["average"]["module." + name]), name


def test_contradicting_robust_options_are_refused(tmp_path):
    from emotion.training.train import check_stage1
    with pytest.raises(ValueError, match="--degrade"):
        check_stage1(Stage1Config(degrade=1.5))
    with pytest.raises(ValueError, match="one"):
        check_stage1(Stage1Config(teachers=["a.pt"], soft_targets=["b.npz"], distill=0.5))
    with pytest.raises(ValueError, match="distillation needs"):
        check_stage1(replace(Stage1Config(), soft_targets=["b.npz"]))


def test_biases_judged_on_still_faces_reach_still_faces_only():
    from emotion.ml.checkpoint import load_checkpoint
    from emotion.ml.engine import DEFAULT_CHECKPOINT, Engine
    img = cv2.imread(str(need(MEDIA / "obama.jpg")))
    bias = torch.zeros(7)
    bias[4] = 3.0                                       # a strong push towards "sad"

    def engine_with(applies_to):
        model, meta = load_checkpoint(DEFAULT_CHECKPOINT)
        model.output_bias.copy_(bias)
        return Engine(model, {**meta, "calibration": {"applies_to": applies_to}}, "test")

    stills, everywhere = engine_with("stills"), engine_with(None)
    assert stills.analyze_image(img)[0].probs[4] == pytest.approx(everywhere.analyze_image(img)[0].probs[4], abs=1e-4)
    streamed = stills.stream().process(img, t=0.0)[0].probs[4]
    assert streamed < everywhere.stream().process(img, t=0.0)[0].probs[4] / 2


def test_fitting_writes_the_temperature_and_the_choice_into_a_checkpoint_that_still_loads_safely(
        tmp_path, fer_splits, monkeypatch):
    from emotion.ml.engine import DEFAULT_CHECKPOINT, load_engine
    ck = tmp_path / "model.pt"
    shutil.copy(DEFAULT_CHECKPOINT, ck)
    monkeypatch.setattr(robustness, "GRID", {"min_face_size": (16, 40), "max_noise": (14.0, 1e9),
                                             "min_sharpness": (0.0, 60.0), "brightness": ((0.0, 255.0),),
                                             "min_confidence": (0.3, 0.5)})
    x, y = fer_splits["PublicTest"]
    fitted = robustness.fit(ck, {"PublicTest": (x[:300], y[:300])})
    loaded = torch.load(ck, map_location="cpu", weights_only=True)
    assert loaded["meta"]["temperature"] == fitted["calibration"]["temperature"]
    assert 0.25 <= load_engine(ck).temperature <= 4
    assert fitted["choice"]["rule"] is None or fitted["choice"]["rule"]["max_noise"] in (14.0, 1e9)
