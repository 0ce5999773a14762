"""What both training stages share: the data they read, their log, and resumable checkpoints.

Kept apart from ``train`` (stage 1) and ``train_temporal`` (stage 2) so that neither stage imports
the other, and so that evaluation and calibration can prepare faces exactly as training does.

A resume checkpoint (``<stage>_last.pt``) holds the stage's config as a plain dict next to the model,
optimizer, schedule and random-number state, so it loads with ``torch.load(..., weights_only=True)``
and a resumed run continues exactly where the interrupted one stopped. Resuming with a different
config is refused: a schedule changed half-way makes the run impossible to reproduce.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from .data import load_fer2013
from emotion.ml.model import EmotionNet
from emotion.ml.normalize import equalize, standardize

log = logging.getLogger("emotion.train")
DEFAULT_CACHE = Path(os.environ.get("FER_CACHE_DIR", Path.home() / ".cache" / "fer-emotion"))


class ConfigMismatch(ValueError):
    """A resume checkpoint was written by a run with another config."""


def plain(value):
    """Tuples become lists, recursively: the config as JSON and ``weights_only`` both understand it."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def config_dict(cfg) -> dict:
    return plain(asdict(cfg))


def setup_logging(out: Path) -> None:
    """Log to ``out/train.log``, and to stderr unless the project's logging config already does.

    The handlers go on the training logger itself: under Django's config the ``emotion`` loggers do
    not propagate to the root logger."""
    out.mkdir(parents=True, exist_ok=True)
    for handler in [h for h in log.handlers if getattr(h, "training_run", False)]:
        log.removeHandler(handler)
        handler.close()
    handlers = [logging.FileHandler(out / "train.log")]
    if not logging.getLogger("emotion").handlers:
        handlers.append(logging.StreamHandler())
    for handler in handlers:
        handler.training_run = True
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        log.addHandler(handler)
    log.setLevel(logging.INFO)


def prepare(x: np.ndarray, norm: str) -> torch.Tensor:
    """uint8 faces -> (N, 1, 48, 48) float in [0, 1] after the contrast step (augment, then standardise)."""
    return torch.from_numpy(equalize(x, norm)).float().div_(255.0).unsqueeze(1)


def load_splits(data: str) -> dict:
    return load_fer2013(data, cache_dir=DEFAULT_CACHE)


def training_subset(x: np.ndarray, y: np.ndarray, subset: int, seed: int):
    """The first ``subset`` faces of a seeded shuffle of Training (all of it when ``subset`` is 0);
    stage 2 calls it with stage 1's values so both stages see the same faces."""
    if not subset:
        return x, y
    idx = np.random.default_rng(seed).permutation(len(x))[:subset]
    return x[idx], y[idx]


@torch.no_grad()
def predict_logits(model: EmotionNet, x01: torch.Tensor, batch: int = 512) -> np.ndarray:
    """Per-frame CNN logits (mirror-averaged, as everywhere else, no output bias) for faces in [0, 1]."""
    model.eval()
    device = next(model.parameters()).device
    out = []
    for i in range(0, len(x01), batch):
        xb = standardize(x01[i:i + batch]).to(device).contiguous(memory_format=torch.channels_last)
        out.append(model.frames(xb)[1].float().cpu())
    return torch.cat(out).numpy()


def predict_cnn(model: EmotionNet, x01: torch.Tensor, batch: int = 512) -> np.ndarray:
    """Per-frame CNN probabilities of ``predict_logits``."""
    return torch.from_numpy(predict_logits(model, x01, batch)).softmax(-1).numpy()


def engine_bf16() -> bool:
    """Whether the engine on this machine runs the CNN under bf16 autocast: evaluation and calibration
    score what ``classify_faces`` would report here (bf16 is far slower without AVX-512 BF16)."""
    from emotion.ml.engine import use_bf16
    return use_bf16()


def save_resume(path: Path, config: dict, epoch: int, state: dict) -> None:
    """Write a resume checkpoint atomically: ``state`` holds state dicts and plain data only."""
    tmp = Path(path).with_suffix(".tmp")
    torch.save({"config": config, "epoch": epoch, "torch_rng": torch.get_rng_state(), **state}, tmp)
    os.replace(tmp, path)


# Config keys that describe the machine, not the schedule: a run may resume on another CPU
MACHINE_KEYS = frozenset({"bf16"})


def load_resume(path: Path, config: dict):
    """The resume checkpoint at ``path`` (None when there is none), refused if its config differs."""
    if not Path(path).exists():
        return None
    ck = torch.load(path, map_location="cpu", weights_only=True)
    theirs = ck.get("config") or {}
    diff = sorted(k for k in set(theirs) | set(config) if theirs.get(k) != config.get(k) and k not in MACHINE_KEYS)
    if diff or not theirs:
        raise ConfigMismatch(
            f"{path} was written by a run with another config (differs in: {', '.join(diff) or 'everything'}): "
            f"{json.dumps(theirs)}. Resume with the same options, or start a new run folder.")
    torch.set_rng_state(ck["torch_rng"])
    return ck
