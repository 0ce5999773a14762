"""Lighting normalisation of 48x48 grayscale faces, shared by training and inference.

A face first goes through an optional contrast step on its ``uint8`` pixels (``none``, global
histogram equalisation ``hist``, or ``clahe``), then is standardised to zero mean and unit variance so
that the network never sees absolute brightness. Which contrast step to ship was measured on
PublicTest (see ``emotion/weights/model_card.json``); the checkpoint records its choice.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

METHODS = ("none", "hist", "clahe")
_CLAHE = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(4, 4))


def equalize(faces: np.ndarray, method: str) -> np.ndarray:
    """(N, 48, 48) uint8 -> (N, 48, 48) uint8 after the contrast step."""
    if method not in METHODS:
        raise ValueError(f"unknown normalisation {method!r}; expected one of {METHODS}")
    if method == "none":
        return faces
    op = cv2.equalizeHist if method == "hist" else _CLAHE.apply
    return np.stack([op(np.ascontiguousarray(f)) for f in faces]) if len(faces) else faces


def standardize(x: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    """Per-image zero mean, unit variance over (…, H, W)."""
    mean = x.mean(dim=(-2, -1), keepdim=True)
    std = x.std(dim=(-2, -1), keepdim=True)
    return (x - mean) / (std + eps)


def to_tensor(faces: np.ndarray, method: str) -> torch.Tensor:
    """(N, 48, 48) uint8 -> (N, 1, 48, 48) float32, equalised and standardised."""
    x = torch.from_numpy(np.ascontiguousarray(equalize(faces, method))).float().div_(255.0)
    return standardize(x).unsqueeze(1)
