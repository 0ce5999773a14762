"""The frozen CNN's outputs for every face's video-like views (``sequences.face_views``), computed
once per checkpoint and split and cached on disk, so stage 2 and the temporal benchmark build as many
clips as they like without running the CNN again.

The cache lives under ``var/stage2-features/`` (never in git), keyed by the checkpoint's weights,
the split, the number of faces and views, the seed and the CNN view (mirror-averaged or not).
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import torch

from emotion.ml.normalize import standardize
from .sequences import ClipSpec, face_views

log = logging.getLogger("emotion.train")
FEATURE_CACHE = Path(os.environ.get("FER_FEATURE_CACHE", Path(__file__).resolve().parents[2] / "var" / "stage2-features"))


@torch.no_grad()
def clip_frames(model, clips01: torch.Tensor, bf16: bool = True, chunk: int = 1024, mirror: bool = True):
    """clips (B, T, 1, 48, 48) in [0, 1] -> features (B, T, F), CNN logits (B, T, C), frozen CNN;
    ``mirror`` averages in each face's mirror image."""
    b, t = clips01.shape[:2]
    flat = clips01.flatten(0, 1)
    feats, logits = [], []
    for i in range(0, len(flat), chunk):
        x = standardize(flat[i:i + chunk]).contiguous(memory_format=torch.channels_last)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            f, lo = model.frames(x, tta=mirror)
        feats.append(f); logits.append(lo)
    return torch.cat(feats).view(b, t, -1), torch.cat(logits).view(b, t, -1)


def cnn_digest(model) -> str:
    """A short digest of the CNN's weights: the cache's key, whatever file they came from."""
    h = hashlib.sha256()
    for name, value in sorted(model.cnn.state_dict().items()):
        h.update(name.encode())
        h.update(value.detach().float().contiguous().numpy().tobytes())
    return h.hexdigest()[:12]


@torch.no_grad()
def view_outputs(model, faces01: torch.Tensor, views: int, seed: int, bf16: bool, mirror: bool = True,
                 batch: int = 128):
    """(N, 1, 48, 48) faces in [0, 1] -> features (N, V, F) as float16, CNN logits (N, V, C)."""
    g = torch.Generator().manual_seed(seed)
    feats, logits = [], []
    for i in range(0, len(faces01), batch):
        f, lo = clip_frames(model, face_views(faces01[i:i + batch], views, g, ClipSpec()), bf16, mirror=mirror)
        feats.append(f.half()); logits.append(lo)
    return torch.cat(feats), torch.cat(logits)


def cached_view_outputs(model, split: str, faces01: torch.Tensor, views: int, seed: int, bf16: bool,
                        mirror: bool = True, cache_dir: Path | None = None):
    key = f"{cnn_digest(model)}-{split}-{len(faces01)}x{views}-seed{seed}-{'mirror' if mirror else 'single'}"
    path = Path(cache_dir or FEATURE_CACHE) / f"{key}.pt"
    if path.exists():
        ck = torch.load(path, map_location="cpu", weights_only=True)
        return ck["feats"], ck["logits"]
    log.info("computing CNN outputs of %d %s faces x %d views (cached as %s)", len(faces01), split, views, path)
    feats, logits = view_outputs(model, faces01, views, seed, bf16, mirror)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save({"feats": feats, "logits": logits}, tmp)
    os.replace(tmp, path)
    return feats, logits
