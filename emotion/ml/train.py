"""Training: stage 1 fits the CNN on single faces, stage 2 fits the LSTM head on synthetic clips.

    python -m emotion.ml.train stage1 --data ../shared/datasets/fer2013.zip --out runs/main
    python -m emotion.ml.train stage2 --data ../shared/datasets/fer2013.zip --out runs/main

Both stages are seeded, log to ``<out>/train.log``, and save ``<out>/<stage>_last.pt`` after every
epoch; running the same command again resumes from it. Model choice (best epoch) uses PublicTest only.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from . import augment
from .checkpoint import save_checkpoint
from .data import load_fer2013
from .metrics import classification_report
from .model import EmotionNet, ModelConfig
from .normalize import equalize, standardize

log = logging.getLogger("emotion.train")
DEFAULT_CACHE = Path(os.environ.get("FER_CACHE_DIR", Path.home() / ".cache" / "fer-emotion"))


@dataclass
class Stage1Config:
    epochs: int = 60
    batch_size: int = 128
    lr: float = 0.05              # peak of the one-cycle schedule (SGD, Nesterov momentum)
    weight_decay: float = 5e-4
    label_smoothing: float = 0.1
    norm: str = "clahe"           # lighting normalisation: best of none/hist/clahe on PublicTest (runs/ablation.json)
    subset: int = 0               # use only this many training faces (0: all); for smoke tests
    seed: int = 0
    bf16: bool = True             # bf16 autocast: about 2.8x faster on AVX-512 BF16 CPUs
    model: dict = field(default_factory=lambda: ModelConfig().to_dict())


def setup_logging(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    handlers = [logging.FileHandler(out / "train.log"), logging.StreamHandler()]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", handlers=handlers, force=True)


def prepare(x: np.ndarray, norm: str) -> torch.Tensor:
    """uint8 faces -> (N, 1, 48, 48) float in [0, 1] after the contrast step (augment, then standardise)."""
    return torch.from_numpy(equalize(x, norm)).float().div_(255.0).unsqueeze(1)


@torch.no_grad()
def predict_cnn(model: EmotionNet, x01: torch.Tensor, batch: int = 512) -> np.ndarray:
    """Per-frame CNN probabilities (mirror-averaged, as everywhere else) for faces in [0, 1]."""
    model.eval()
    out = []
    for i in range(0, len(x01), batch):
        xb = standardize(x01[i:i + batch]).contiguous(memory_format=torch.channels_last)
        out.append(model.frames(xb)[1].softmax(-1))
    return torch.cat(out).numpy()


def _load_splits(data: str, norm: str, subset: int, seed: int):
    splits = load_fer2013(data, cache_dir=DEFAULT_CACHE)
    xtr, ytr = splits["Training"]
    if subset:
        idx = np.random.default_rng(seed).permutation(len(xtr))[:subset]
        xtr, ytr = xtr[idx], ytr[idx]
    xpub, ypub = splits["PublicTest"]
    return prepare(xtr, norm), torch.from_numpy(ytr), prepare(xpub, norm), ypub


def train_stage1(cfg: Stage1Config, data: str, out: Path, threads: int = 0) -> dict:
    setup_logging(out)
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(cfg.seed)
    xtr, ytr, xpub, ypub = _load_splits(data, cfg.norm, cfg.subset, cfg.seed)
    mcfg = ModelConfig.from_dict(cfg.model)
    model = EmotionNet(mcfg).to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.cnn.parameters(), lr=cfg.lr, momentum=0.9, nesterov=True,
                          weight_decay=cfg.weight_decay)
    steps_per_epoch = math.ceil(len(xtr) / cfg.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, epochs=cfg.epochs,
                                                steps_per_epoch=steps_per_epoch, pct_start=0.2)
    last, best = out / "stage1_last.pt", out / "stage1_best.pt"
    start, history, best_acc = 0, [], -1.0
    if last.exists():
        ck = torch.load(last, map_location="cpu", weights_only=False)
        model.load_state_dict(ck["model"]); opt.load_state_dict(ck["opt"])
        start, history, best_acc = ck["epoch"] + 1, ck["history"], ck["best_acc"]
        # Rebuild the schedule's position from the step count rather than loading its state, so a run
        # can be resumed with a different number of epochs (the curve is a function of the step).
        with warnings.catch_warnings():       # replaying the schedule needs no optimizer step
            warnings.simplefilter("ignore", UserWarning)
            for _ in range(min(start * steps_per_epoch, sched.total_steps - 1)):
                sched.step()
        log.info("resumed stage 1 at epoch %d (best PublicTest acc %.4f)", start, best_acc)
    log.info("stage 1: %d training faces, config %s", len(xtr), json.dumps(asdict(cfg)))
    for epoch in range(start, cfg.epochs):
        g = torch.Generator().manual_seed(cfg.seed * 1000 + epoch)
        perm = torch.randperm(len(xtr), generator=g)
        model.train()
        t0, total, seen = time.time(), 0.0, 0
        bar = tqdm(range(steps_per_epoch), desc=f"stage1 {epoch + 1}/{cfg.epochs}", leave=False,
                   disable=not os.isatty(2))
        for step in bar:
            idx = perm[step * cfg.batch_size:(step + 1) * cfg.batch_size]
            xb = standardize(augment.train_view(xtr[idx], g)).contiguous(memory_format=torch.channels_last)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.bf16):
                _, logits = model.cnn(xb)
            loss = F.cross_entropy(logits.float(), ytr[idx], label_smoothing=cfg.label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step(); sched.step()
            total += loss.item() * len(idx); seen += len(idx)
            bar.set_postfix(loss=f"{total / seen:.3f}")
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.bf16):
            probs = predict_cnn(model, xpub)
        rep = classification_report(ypub, probs.argmax(1))
        history.append({"epoch": epoch + 1, "train_loss": total / seen, "public_acc": rep["accuracy"],
                        "public_macro_f1": rep["macro_f1"], "seconds": time.time() - t0})
        log.info("stage1 epoch %d/%d loss %.4f PublicTest acc %.4f macro-F1 %.4f (%.0fs)", epoch + 1,
                 cfg.epochs, total / seen, rep["accuracy"], rep["macro_f1"], time.time() - t0)
        if rep["accuracy"] > best_acc:
            best_acc = rep["accuracy"]
            save_checkpoint(best, model, {"stage": 1, "stage1": asdict(cfg), "norm": cfg.norm,
                                          "best_epoch": epoch + 1, "public_acc": best_acc})
        tmp = last.with_suffix(".tmp")
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                    "epoch": epoch, "history": history, "best_acc": best_acc}, tmp)
        os.replace(tmp, last)
    (out / "stage1_history.json").write_text(json.dumps(history, indent=1))
    return {"best_public_acc": best_acc, "history": history}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("stage", choices=["stage1", "stage2"])
    p.add_argument("--data", required=True, help="fer2013.zip, its extracted folder, or fer2013.csv")
    p.add_argument("--out", required=True, type=Path, help="run folder: logs and checkpoints")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--epochs", type=int)
    p.add_argument("--subset", type=int)
    p.add_argument("--norm")
    p.add_argument("--seed", type=int)
    p.add_argument("--widths", help="comma-separated CNN stage widths")
    args = p.parse_args(argv)
    if args.stage == "stage1":
        cfg = Stage1Config()
        for k in ("epochs", "subset", "norm", "seed"):
            if getattr(args, k) is not None:
                setattr(cfg, k, getattr(args, k))
        if args.widths:
            cfg.model["widths"] = [int(w) for w in args.widths.split(",")]
        train_stage1(cfg, args.data, args.out, args.threads)
    else:
        from .train_temporal import main_stage2
        main_stage2(args)


if __name__ == "__main__":
    main()
