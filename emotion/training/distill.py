"""Stage-1 training aids for a student of v1's cost: teachers' soft targets, mixup/cutmix, and a
running average of the weights.

- ``Teachers``: frozen stage-1 checkpoints (wider CNNs, trained by the same command with
  ``--widths``) whose mirror-averaged probabilities, averaged over the teachers, are the soft targets.
- ``mix_batch``: mixup (a weighted blend of two faces) or cutmix (a box of one face pasted into
  another), the targets mixed in the same proportion. The mixing weights come from the training
  run's own torch generator, so a resumed run mixes exactly as an uninterrupted one.
- ``distillation_loss``: cross-entropy on the (mixed) labels plus the temperature-scaled KL divergence
  to the teachers, weighted ``1 - w`` and ``w``; the ``T**2`` factor keeps the soft term's gradients
  on the scale of the hard one's whatever the temperature.
- ``weight_average``: an exponential moving average of the CNN's weights and BatchNorm statistics,
  scored and saved in place of the raw weights.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from emotion.ml.checkpoint import load_checkpoint


def averaged(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """(K, B, C) logits of K teachers -> (B, C): each teacher's softmax at ``temperature``, averaged.
    What a student learns, whether its teachers run live or were stored (soft_targets.py)."""
    return (logits / temperature).softmax(-1).mean(0)


class Teachers:
    """Frozen CNNs whose averaged, temperature-softened probabilities are a student's soft targets."""

    def __init__(self, paths: Sequence[str], norm: str, device: torch.device | str = "cpu"):
        self.models = []
        for path in paths:
            if not Path(path).exists():
                raise FileNotFoundError(f"no teacher checkpoint at {path}")
            model, meta = load_checkpoint(path)
            if meta.get("norm") != norm:
                raise ValueError(f"teacher {path} was trained on '{meta.get('norm')}' faces and the student on "
                                 f"'{norm}': a teacher must see the faces as the student does")
            self.models.append(model.to(device).eval().requires_grad_(False))

    @torch.no_grad()
    def probs(self, x: torch.Tensor, temperature: float) -> torch.Tensor:
        """(B, 1, 48, 48) standardised faces -> (B, C) averaged soft targets at ``temperature``."""
        return averaged(torch.stack([m.frames(x)[1] for m in self.models]), temperature)


def mix_batch(x: torch.Tensor, targets: torch.Tensor, g: torch.Generator, alpha: float, cutmix: float):
    """Mix each face with another of the batch: cutmix with probability ``cutmix``, else mixup, the
    share ``lam`` of the first face drawn from Beta(alpha, alpha); the (B, C) targets follow the
    share of pixels (cutmix, after clipping the box to the face) or of intensity (mixup) each face
    contributes."""
    b, _, h, w = x.shape
    perm = torch.randperm(b, generator=g)
    # numpy draws the Beta share, seeded from the run's generator so that resuming replays it
    seed = int(torch.randint(2 ** 62, (1,), generator=g))
    lam = float(np.random.default_rng(seed).beta(alpha, alpha)) if alpha > 0 else 1.0
    if float(torch.rand(1, generator=g)) < cutmix:
        cut = (1.0 - lam) ** 0.5
        ch, cw = int(round(h * cut)), int(round(w * cut))
        cy, cx = int(torch.randint(h, (1,), generator=g)), int(torch.randint(w, (1,), generator=g))
        y0, y1 = max(cy - ch // 2, 0), min(cy + (ch + 1) // 2, h)
        x0, x1 = max(cx - cw // 2, 0), min(cx + (cw + 1) // 2, w)
        x = x.clone()
        x[:, :, y0:y1, x0:x1] = x[perm][:, :, y0:y1, x0:x1]
        lam = 1.0 - (y1 - y0) * (x1 - x0) / (h * w)
    else:
        x = lam * x + (1.0 - lam) * x[perm]
    return x, lam * targets + (1.0 - lam) * targets[perm]


def soft_targets(y: torch.Tensor, num_classes: int, smoothing: float) -> torch.Tensor:
    """(B,) labels -> (B, C) label-smoothed one-hot targets, as ``cross_entropy(label_smoothing=)`` uses."""
    return F.one_hot(y, num_classes).float() * (1.0 - smoothing) + smoothing / num_classes


def distillation_loss(logits: torch.Tensor, targets: torch.Tensor, teacher_probs: torch.Tensor | None,
                      weight: float, temperature: float) -> torch.Tensor:
    """(1 - weight) * CE(logits, targets) + weight * T^2 * KL(teacher || student at T)."""
    hard = F.cross_entropy(logits, targets)
    if teacher_probs is None or weight == 0:
        return hard
    student = F.log_softmax(logits / temperature, -1)
    soft = F.kl_div(student, teacher_probs, reduction="batchmean") * temperature ** 2
    return (1.0 - weight) * hard + weight * soft


def weight_average(module: torch.nn.Module, decay: float) -> AveragedModel:
    """An exponential moving average of ``module``'s weights and buffers (BatchNorm statistics too)."""
    return AveragedModel(module, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)
