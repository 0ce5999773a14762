"""Shipped checkpoints: the weights plus everything needed to rebuild the model, loadable with
``torch.load(..., weights_only=True)`` (plain tensors, dicts, lists, strings and numbers only)."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from .model import EmotionNet, ModelConfig


def save_checkpoint(path: Path, model: EmotionNet, meta: dict) -> None:
    tmp = Path(path).with_suffix(".tmp")
    state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    torch.save({"model_config": model.cfg.to_dict(), "state_dict": state, "meta": meta}, tmp)
    os.replace(tmp, path)


def load_checkpoint(path) -> tuple[EmotionNet, dict]:
    ck = torch.load(path, map_location="cpu", weights_only=True)
    model = EmotionNet(ModelConfig.from_dict(ck["model_config"]))
    state = dict(ck["state_dict"])
    state.setdefault("output_bias", torch.zeros_like(model.output_bias))   # checkpoints made before calibration
    model.load_state_dict(state)
    model.eval()
    return model, ck["meta"]


def biases_for_stills_only(meta: dict) -> bool:
    """Whether the checkpoint's output biases were judged on still faces only, and so are added to still
    faces' probabilities and never to video or live streams (``calibrate``)."""
    return (meta.get("calibration") or {}).get("applies_to") == "stills"
