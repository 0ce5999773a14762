"""Stage 2: train the LSTM head on synthetic clips (see ``sequences``), with the stage-1 CNN frozen.

The CNN's features are computed under ``no_grad`` and only the temporal head learns, so an epoch
costs one CNN forward pass per frame. The best epoch and the exponential-smoothing baseline's factor
are both chosen on clips built from PublicTest.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from .checkpoint import load_checkpoint, save_checkpoint
from .data import load_fer2013
from .metrics import classification_report
from .normalize import standardize
from .sequences import ClipSpec, make_clips

log = logging.getLogger("emotion.train")


@dataclass
class Stage2Config:
    epochs: int = 4
    clips_per_epoch: int = 2400
    batch_size: int = 32          # clips per step
    lr: float = 2e-3
    val_clips: int = 600          # PublicTest clips for choosing the epoch and the smoothing factor
    seed: int = 0
    bf16: bool = True
    clip: dict = field(default_factory=lambda: asdict(ClipSpec()))


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


def build_clip_set(faces01, labels, n, seed, spec: ClipSpec, bf16, model, batch=200, mirror: bool = True):
    """A fixed, reproducible set of clips, already passed through the frozen CNN."""
    g = torch.Generator().manual_seed(seed)
    feats, logits, ys = [], [], []
    for i in range(0, n, batch):
        clips, y = make_clips(faces01, labels, min(batch, n - i), g, spec)
        f, lo = clip_frames(model, clips, bf16, mirror=mirror)
        feats.append(f); logits.append(lo); ys.append(y)
    return torch.cat(feats), torch.cat(logits), torch.cat(ys)


@torch.no_grad()
def lstm_probs(model, feats, logits) -> np.ndarray:
    model.eval()
    refined, _ = model.temporal(feats, logits)
    return model.probs(refined).numpy()


def ema_probs(probs: np.ndarray, alpha: float) -> np.ndarray:
    """Exponential smoothing along time of (B, T, C) probabilities: s_t = a p_t + (1 - a) s_{t-1}."""
    out = np.empty_like(probs)
    out[:, 0] = probs[:, 0]
    for t in range(1, probs.shape[1]):
        out[:, t] = alpha * probs[:, t] + (1 - alpha) * out[:, t - 1]
    return out


def choose_ema_alpha(cnn_probs: np.ndarray, y: np.ndarray) -> float:
    """The smoothing factor with the best frame macro F1 on the (PublicTest) clips given."""
    grid = [0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0]
    scores = [classification_report(y.ravel(), ema_probs(cnn_probs, a).argmax(-1).ravel())["macro_f1"]
              for a in grid]
    return grid[int(np.argmax(scores))]


def train_stage2(cfg: Stage2Config, data: str, out: Path, threads: int = 0) -> dict:
    from .train import DEFAULT_CACHE, prepare, setup_logging
    setup_logging(out)
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(cfg.seed)
    model, meta = load_checkpoint(out / "stage1_best.pt")
    model = model.to(memory_format=torch.channels_last)
    norm, spec = meta["norm"], ClipSpec(**cfg.clip)
    splits = load_fer2013(data, cache_dir=DEFAULT_CACHE)
    xtr, ytr = splits["Training"]
    if meta["stage1"].get("subset"):
        idx = np.random.default_rng(meta["stage1"]["seed"]).permutation(len(xtr))[:meta["stage1"]["subset"]]
        xtr, ytr = xtr[idx], ytr[idx]
    xtr, ytr = prepare(xtr, norm), torch.from_numpy(ytr)
    xpub, ypub = splits["PublicTest"]
    val = build_clip_set(prepare(xpub, norm), torch.from_numpy(ypub), cfg.val_clips, 10_001, spec, cfg.bf16, model)
    alpha = choose_ema_alpha(val[1].softmax(-1).numpy(), val[2].numpy())
    log.info("stage 2: EMA baseline factor chosen on PublicTest clips: %.2f", alpha)

    opt = torch.optim.AdamW(model.temporal.parameters(), lr=cfg.lr, weight_decay=1e-4)
    last, best = out / "stage2_last.pt", out / "stage2_best.pt"
    start, history, best_f1 = 0, [], -1.0
    if last.exists():
        ck = torch.load(last, map_location="cpu", weights_only=False)
        model.temporal.load_state_dict(ck["temporal"]); opt.load_state_dict(ck["opt"])
        start, history, best_f1 = ck["epoch"] + 1, ck["history"], ck["best_f1"]
        log.info("resumed stage 2 at epoch %d", start)
    steps = max(1, cfg.clips_per_epoch // cfg.batch_size)
    for epoch in range(start, cfg.epochs):
        g = torch.Generator().manual_seed(cfg.seed * 1000 + epoch)
        lr = cfg.lr * 0.5 * (1 + np.cos(np.pi * epoch / cfg.epochs))
        for group in opt.param_groups:
            group["lr"] = lr
        t0, total = time.time(), 0.0
        model.temporal.train()
        bar = tqdm(range(steps), desc=f"stage2 {epoch + 1}/{cfg.epochs}", leave=False, disable=not os.isatty(2))
        for _ in bar:
            clips, y = make_clips(xtr, ytr, cfg.batch_size, g, spec)
            feats, logits = clip_frames(model, clips, cfg.bf16)
            refined, _ = model.temporal(feats, logits)
            loss = F.cross_entropy(refined.flatten(0, 1), y.flatten())
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.temporal.parameters(), 1.0)
            opt.step()
            total += loss.item()
        rep = classification_report(val[2].numpy().ravel(), lstm_probs(model, val[0], val[1]).argmax(-1).ravel())
        history.append({"epoch": epoch + 1, "train_loss": total / steps, "public_clip_acc": rep["accuracy"],
                        "public_clip_macro_f1": rep["macro_f1"], "seconds": time.time() - t0})
        log.info("stage2 epoch %d/%d loss %.4f PublicTest clips acc %.4f macro-F1 %.4f (%.0fs)", epoch + 1,
                 cfg.epochs, total / steps, rep["accuracy"], rep["macro_f1"], time.time() - t0)
        if rep["macro_f1"] > best_f1:
            best_f1 = rep["macro_f1"]
            save_checkpoint(best, model, {**meta, "stage": 2, "stage2": asdict(cfg), "ema_alpha": alpha,
                                          "stage2_best_epoch": epoch + 1})
        tmp = last.with_suffix(".tmp")
        torch.save({"temporal": model.temporal.state_dict(), "opt": opt.state_dict(), "epoch": epoch,
                    "history": history, "best_f1": best_f1}, tmp)
        os.replace(tmp, last)
    (out / "stage2_history.json").write_text(json.dumps(history, indent=1))
    return {"best_public_clip_f1": best_f1, "ema_alpha": alpha, "history": history}


def main_stage2(args) -> None:
    cfg = Stage2Config()
    if args.epochs is not None:
        cfg.epochs = args.epochs
    if args.seed is not None:
        cfg.seed = args.seed
    if args.subset:
        cfg.clips_per_epoch, cfg.val_clips = min(cfg.clips_per_epoch, args.subset), min(cfg.val_clips, 100)
    train_stage2(cfg, args.data, args.out, args.threads)
