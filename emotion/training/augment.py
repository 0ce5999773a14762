"""Batched image augmentation in torch: cheap enough on two CPU cores to run inside the training loop.

Used by stage 1 (one view per face) and by the sequence builder of stage 2 (a view per frame).
Inputs and outputs are (B, 1, H, W) float tensors in [0, 1], before standardisation.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from .degrade import random_degradations
from emotion.ml.normalize import equalize


def random_affine(x: torch.Tensor, g: torch.Generator, max_rot: float = 15.0, scale=(0.85, 1.15),
                  max_shift: float = 0.1, flip: bool = True) -> torch.Tensor:
    b = x.shape[0]
    theta = _affine_params(b, g, max_rot, scale, max_shift, flip)
    return warp(x, theta)


def _affine_params(b, g, max_rot, scale, max_shift, flip):
    ang = (torch.rand(b, generator=g) * 2 - 1) * math.radians(max_rot)
    s = torch.empty(b).uniform_(scale[0], scale[1], generator=g)
    tx, ty = ((torch.rand(2, b, generator=g) * 2 - 1) * max_shift * 2)
    sx = torch.where(torch.rand(b, generator=g) < 0.5, -1.0, 1.0) if flip else torch.ones(b)
    cos, sin = torch.cos(ang) / s, torch.sin(ang) / s
    return torch.stack([torch.stack([cos * sx, -sin, tx], 1), torch.stack([sin * sx, cos, ty], 1)], 1)


def warp(x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Apply (B, 2, 3) affine maps (output -> input coordinates); borders replicate the edge pixels."""
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def random_gamma(x: torch.Tensor, g: torch.Generator, spread: float = 0.4) -> torch.Tensor:
    gamma = torch.exp((torch.rand(x.shape[0], 1, 1, 1, generator=g) * 2 - 1) * spread)
    return x.clamp_min(1e-4).pow(gamma)


def random_erase(x: torch.Tensor, g: torch.Generator, p: float = 0.5, max_frac: float = 0.35) -> torch.Tensor:
    """Grey out one random rectangle per image with probability p (a hand, a microphone, hair)."""
    b, _, h, w = x.shape
    hit = torch.rand(b, generator=g) < p
    eh = (torch.rand(b, generator=g) * max_frac * h).long() + 4
    ew = (torch.rand(b, generator=g) * max_frac * w).long() + 4
    y0 = (torch.rand(b, generator=g) * (h - eh)).long()
    x0 = (torch.rand(b, generator=g) * (w - ew)).long()
    ys = torch.arange(h).view(1, h, 1)
    xs = torch.arange(w).view(1, 1, w)
    mask = ((ys >= y0.view(-1, 1, 1)) & (ys < (y0 + eh).view(-1, 1, 1))
            & (xs >= x0.view(-1, 1, 1)) & (xs < (x0 + ew).view(-1, 1, 1)) & hit.view(-1, 1, 1))
    fill = torch.rand(b, 1, 1, generator=g).expand(b, h, w)
    out = x.clone()
    out[:, 0][mask] = fill[mask]
    return out


def train_view(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """The stage-1 augmentation: geometry, gamma, occlusion."""
    return random_erase(random_gamma(random_affine(x, g), g), g)


def camera_view(faces: torch.Tensor, g: torch.Generator, norm: str, p: float) -> torch.Tensor:
    """The stage-1 augmentation of robust training, on raw (B, 1, 48, 48) uint8 faces: geometry, then
    with probability ``p`` a camera degradation (noise, compression, blur, a small capture, exposure;
    ``degrade.random_degradations``) on the re-quantised face, then the contrast step ``norm`` as the
    engine applies it to what a camera gives, then gamma and occlusion. Every draw comes from ``g``."""
    x = random_affine(faces.float().div(255.0), g)
    u8 = (x * 255.0).round_().clamp_(0, 255).to(torch.uint8)[:, 0].numpy()
    seed = int(torch.randint(2 ** 62, (1,), generator=g))
    u8 = random_degradations(u8, np.random.default_rng(seed), p)
    x = torch.from_numpy(equalize(u8, norm)).float().div_(255.0).unsqueeze(1)
    return random_erase(random_gamma(x, g), g)
