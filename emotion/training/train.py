"""Training: stage 1 fits the CNN on single faces, stage 2 fits the LSTM head on video-like clips.

    python -m emotion.training.train stage1 --data ../shared/datasets/fer2013.zip --out runs/main
    python -m emotion.training.train stage2 --data ../shared/datasets/fer2013.zip --out runs/main

Both stages are seeded, log to ``<out>/train.log``, and save ``<out>/<stage>_last.pt`` after every
epoch with their config; running the same command again resumes from it (``--stop-after N`` ends a
call after N epochs, to cut a long run into chunks). Resuming with other options is refused, so the
schedule fixed at the start is the one the run follows. Model choice (best epoch) uses PublicTest only.

Over 300 lines because the stage-1 loop, its resumable state and the command line that checks a
resumed run's options against that state are one contract; split, each half would restate it.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from . import augment, degrade
from emotion.ml.checkpoint import load_checkpoint, save_checkpoint
from .distill import Teachers, distillation_loss, mix_batch, soft_targets, weight_average
from .metrics import classification_report
from emotion.ml.model import EmotionNet, ModelConfig
from emotion.ml.normalize import METHODS, standardize
from .train_common import (ConfigMismatch, config_dict, engine_bf16, load_resume, load_splits, log,
                           plain, predict_cnn, prepare, save_resume, setup_logging, training_subset)
from .robustness import SEEDS
from .soft_targets import SoftTargets
from .train_temporal import Stage2Config, train_stage2

# Robust runs also score each epoch on these suite conditions of PublicTest (one per camera group)
EPOCH_CONDITIONS = ("gaussian noise 15", "jpeg q10", "gaussian blur 1.5", "captured at 16 px")


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
    # bf16 autocast: about 2.8x faster on AVX-512 BF16 CPUs and far slower on others, so it follows the
    # machine (FER_BF16=0/1 overrides); a run resumed on another CPU keeps its schedule (MACHINE_KEYS)
    bf16: bool = field(default_factory=engine_bf16)
    model: dict = field(default_factory=lambda: ModelConfig().to_dict())
    # The route to a better student of the same cost (distill.py); all off by default, as v1 was trained
    teachers: list = field(default_factory=list)   # stage-1 checkpoints of wider CNNs: their soft targets
    distill: float = 0.0          # weight of the teachers' soft targets against the labels' cross-entropy
    temperature: float = 4.0      # softens teachers and student alike in the soft term
    mix_alpha: float = 0.0        # mixup/cutmix share drawn from Beta(a, a); 0: no mixing
    cutmix: float = 0.5           # share of mixed batches that paste a box (cutmix) rather than blend (mixup)
    ema_decay: float = 0.0        # exponential weight average, scored and saved in place of the raw weights
    init: str = ""                # a stage-1 checkpoint of the same CNN to start from (continued training)
    # Robust training: stored soft targets (soft_targets.py) and camera degradations (degrade.py)
    soft_targets: list = field(default_factory=list)  # teachers' stored logits (.npz), averaged like live teachers
    degrade: float = 0.0          # share of faces degraded as a camera would; > 0 also chooses the best
                                  # epoch on clean and degraded PublicTest faces together


def with_cnn(model: EmotionNet, cnn: torch.nn.Module) -> EmotionNet:
    """A model like ``model`` whose CNN is ``cnn`` (the weight average), sharing the other parts."""
    scored = EmotionNet(model.cfg)
    scored.cnn, scored.temporal = cnn, model.temporal
    return scored.to(next(cnn.parameters()).device)


def start_from(model: EmotionNet, cfg: Stage1Config) -> None:
    """Load the CNN weights of ``cfg.init``, refused unless its CNN matches this run's.

    Another lighting normalisation is allowed: a teacher that reads faces another way makes other
    mistakes than its parent (what an ensemble needs), and starting from trained weights is far
    cheaper on a CPU than starting from scratch."""
    if not Path(cfg.init).exists():
        raise FileNotFoundError(f"no checkpoint to start from at {cfg.init}")
    src, meta = load_checkpoint(cfg.init)
    cnn_fields = ("widths", "convs_per_stage", "feature_dim", "num_classes")
    if any(list(plain([getattr(src.cfg, k)])) != list(plain([getattr(model.cfg, k)])) for k in cnn_fields):
        raise ValueError(f"{cfg.init} has another CNN than this run: --init continues the same network")
    if meta.get("norm") != cfg.norm:
        log.info("starting from %s, trained on %s faces, to read %s faces", cfg.init, meta.get("norm"), cfg.norm)
    model.cnn.load_state_dict(src.cnn.state_dict())


def check_stage1(cfg: Stage1Config) -> None:
    """Refuse options that would be silently ignored or cannot work together."""
    if bool(cfg.teachers or cfg.soft_targets) != (cfg.distill > 0):
        raise ValueError("distillation needs both teachers (--teachers or --soft-targets) and a weight above 0 "
                         "(--distill)")
    if cfg.teachers and cfg.soft_targets:
        raise ValueError("--teachers and --soft-targets are two ways to give the teachers: use one")
    if not 0 <= cfg.degrade <= 1:
        raise ValueError("--degrade is a share of faces, 0 to 1")
    if not 0 <= cfg.distill <= 1 or cfg.temperature <= 0:
        raise ValueError("--distill is a weight from 0 to 1 and --temperature must be positive")
    if cfg.mix_alpha < 0 or not 0 <= cfg.cutmix <= 1 or not 0 <= cfg.ema_decay < 1:
        raise ValueError("--mix-alpha must be 0 or more, --cutmix from 0 to 1, --ema from 0 to below 1")


def train_stage1(cfg: Stage1Config, data: str, out: Path, threads: int = 0, stop_after: int = 0,
                 device: str = "cpu") -> dict:
    """Train (or resume) stage 1 in ``out``; ``stop_after`` > 0 returns after that many epochs of this call.

    The faces are augmented and mixed on the CPU with the run's seeded generator (so a run is the same
    on any device) and the network runs on ``device``."""
    check_stage1(cfg)
    dev = torch.device(device)
    setup_logging(out)
    if threads:
        torch.set_num_threads(threads)
    config = config_dict(cfg)
    torch.manual_seed(cfg.seed)
    splits = load_splits(data)
    rows, ytr = training_subset(np.arange(len(splits["Training"][1])), splits["Training"][1], cfg.subset, cfg.seed)
    xtr, ytr = splits["Training"][0][rows], torch.from_numpy(ytr)
    # robust training degrades the raw faces and equalises each view itself
    xtr = torch.from_numpy(xtr).unsqueeze(1) if cfg.degrade else prepare(xtr, cfg.norm)
    stored = SoftTargets(cfg.soft_targets) if cfg.soft_targets else None
    if stored is not None and len(stored) != len(splits["Training"][1]):
        raise ValueError(f"the soft targets hold {len(stored)} Training faces and the data {len(splits['Training'][1])}")
    rows = torch.from_numpy(rows)
    xpub, ypub = splits["PublicTest"]
    degraded_pub = [prepare(degrade.degrade_all(xpub, c, SEEDS["PublicTest"]), cfg.norm)
                    for c in degrade.conditions(EPOCH_CONDITIONS)] if cfg.degrade else []
    xpub = prepare(xpub, cfg.norm)
    model = EmotionNet(ModelConfig.from_dict(cfg.model)).to(dev, memory_format=torch.channels_last)
    if cfg.init:
        start_from(model, cfg)
    teachers = Teachers(cfg.teachers, cfg.norm, dev) if cfg.teachers else None
    average = weight_average(model.cnn, cfg.ema_decay) if cfg.ema_decay else None
    soft_labels = bool(cfg.mix_alpha or cfg.teachers or stored)   # mixed or distilled targets; else v1's plain loss
    opt = torch.optim.SGD(model.cnn.parameters(), lr=cfg.lr, momentum=0.9, nesterov=True,
                          weight_decay=cfg.weight_decay)
    steps_per_epoch = math.ceil(len(xtr) / cfg.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, epochs=cfg.epochs,
                                                steps_per_epoch=steps_per_epoch, pct_start=0.2)
    last, best = out / "stage1_last.pt", out / "stage1_best.pt"
    start, history, best_acc = 0, [], -1.0
    ck = load_resume(last, config)
    if ck is not None:
        model.load_state_dict(ck["model"]); opt.load_state_dict(ck["opt"]); sched.load_state_dict(ck["sched"])
        if average is not None:
            average.load_state_dict(ck["average"])
        start, history, best_acc = ck["epoch"] + 1, ck["history"], ck["best_acc"]
        log.info("resumed stage 1 at epoch %d (best PublicTest acc %.4f)", start, best_acc)
    log.info("stage 1: %d training faces, config %s", len(xtr), json.dumps(config))
    end = cfg.epochs if not stop_after else min(cfg.epochs, start + stop_after)
    for epoch in range(start, end):
        g = torch.Generator().manual_seed(cfg.seed * 1000 + epoch)
        perm = torch.randperm(len(xtr), generator=g)
        model.train()
        t0, total, seen = time.time(), 0.0, 0
        bar = tqdm(range(steps_per_epoch), desc=f"stage1 {epoch + 1}/{cfg.epochs}", leave=False,
                   disable=not os.isatty(2))
        for step in bar:
            idx = perm[step * cfg.batch_size:(step + 1) * cfg.batch_size]
            view = augment.camera_view(xtr[idx], g, cfg.norm, cfg.degrade) if cfg.degrade else augment.train_view(xtr[idx], g)
            xb = standardize(view)
            if soft_labels:
                targets = soft_targets(ytr[idx], model.cfg.num_classes, cfg.label_smoothing)
                if cfg.mix_alpha:
                    xb, targets = mix_batch(xb, targets, g, cfg.mix_alpha, cfg.cutmix)
            xb = xb.to(dev).contiguous(memory_format=torch.channels_last)
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=cfg.bf16):
                _, logits = model.cnn(xb)
                soft = teachers.probs(xb, cfg.temperature) if teachers is not None else None
            if stored is not None:
                # the teacher read the clean face: the student learns to read a degraded one the same way
                soft = stored.probs(rows[idx], cfg.temperature).to(dev)
            if soft_labels:
                loss = distillation_loss(logits.float(), targets.to(dev), None if soft is None else soft.float(),
                                         cfg.distill, cfg.temperature)
            else:
                loss = F.cross_entropy(logits.float(), ytr[idx].to(dev), label_smoothing=cfg.label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if average is not None:
                average.update_parameters(model.cnn)
            with warnings.catch_warnings():     # the last step of a one-cycle run warns needlessly
                warnings.simplefilter("ignore", UserWarning)
                sched.step()
            total += loss.item() * len(idx); seen += len(idx)
            bar.set_postfix(loss=f"{total / seen:.3f}")
        scored = model if average is None else with_cnn(model, average.module)
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=cfg.bf16):
            probs = predict_cnn(scored, xpub)
            degraded = [float((predict_cnn(scored, d).argmax(1) == ypub).mean()) for d in degraded_pub]
        rep = classification_report(ypub, probs.argmax(1))
        entry = {"epoch": epoch + 1, "train_loss": total / seen, "public_acc": rep["accuracy"],
                 "public_macro_f1": rep["macro_f1"], "seconds": time.time() - t0}
        score = rep["accuracy"]
        if degraded:
            entry["public_degraded_acc"] = dict(zip(EPOCH_CONDITIONS, degraded))
            score = entry["public_score"] = (rep["accuracy"] + float(np.mean(degraded))) / 2
        history.append(entry)
        log.info("stage1 epoch %d/%d loss %.4f PublicTest acc %.4f macro-F1 %.4f%s (%.0fs)", epoch + 1,
                 cfg.epochs, total / seen, rep["accuracy"], rep["macro_f1"],
                 f" degraded acc {np.mean(degraded):.4f}" if degraded else "", time.time() - t0)
        if score > best_acc:
            best_acc = score
            save_checkpoint(best, scored if dev.type == "cpu" else copy.deepcopy(scored).cpu(),
                            {"stage": 1, "stage1": config, "norm": cfg.norm, "best_epoch": epoch + 1,
                             "public_acc": rep["accuracy"], "public_score": best_acc})
        state = {"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                 "history": history, "best_acc": best_acc}
        if average is not None:
            state["average"] = average.state_dict()
        save_resume(last, config, epoch, state)
    if len(history) == cfg.epochs:
        (out / "stage1_history.json").write_text(json.dumps(history, indent=1))
    return {"best_public_acc": best_acc, "history": history, "finished": len(history) == cfg.epochs}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    stages = p.add_subparsers(dest="stage", required=True)
    for name, doc in (("stage1", "the CNN on single Training faces"),
                      ("stage2", "the LSTM head on video-like clips; the stage-1 CNN (<out>/stage1_best.pt) stays frozen")):
        s = stages.add_parser(name, help=doc, description=doc)
        s.add_argument("--data", required=True, help="fer2013.zip, its extracted folder, or fer2013.csv")
        s.add_argument("--out", required=True, type=Path, help="run folder: logs and checkpoints")
        s.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
        s.add_argument("--epochs", type=int)
        s.add_argument("--seed", type=int)
        s.add_argument("--stop-after", type=int, default=0, help="end this call after N epochs (resume later)")
        s.add_argument("--norm", help="lighting normalisation (%s)" % ", ".join(METHODS) if name == "stage1"
                       else argparse.SUPPRESS)
        s.add_argument("--widths", help="comma-separated CNN stage widths" if name == "stage1" else argparse.SUPPRESS)
        if name == "stage1":
            s.add_argument("--subset", type=int, help="train on this many Training faces (a seeded sample)")
            s.add_argument("--teachers", help="comma-separated stage-1 checkpoints whose soft targets the CNN learns")
            s.add_argument("--distill", type=float, help="weight of the teachers' soft targets, 0 to 1")
            s.add_argument("--temperature", type=float, help="softening of the soft term (default 4)")
            s.add_argument("--mix-alpha", type=float, help="mixup/cutmix Beta(a, a) share; 0 turns mixing off")
            s.add_argument("--cutmix", type=float, help="share of mixed batches that use cutmix (default 0.5)")
            s.add_argument("--ema", type=float, help="decay of the weight average scored and saved (e.g. 0.999)")
            s.add_argument("--lr", type=float, help="peak learning rate of the one-cycle schedule (default 0.05)")
            s.add_argument("--init", help="a stage-1 checkpoint of the same CNN to continue training from")
            s.add_argument("--soft-targets", help="comma-separated stored teacher logits (.npz from emotion.training.soft_targets)")
            s.add_argument("--device", default="cpu", help="where the network runs: cpu or cuda (the run is the same)")
        else:
            s.add_argument("--clips", type=int, help="training clips per epoch")
            s.add_argument("--train-faces", type=int, help="Training faces whose views are cached (0: all)")
        s.add_argument("--degrade", type=float, help="share of training faces degraded as a camera would (0 to 1)")
    return p


def stage1_config(args, p) -> Stage1Config:
    cfg = Stage1Config()
    for k in ("epochs", "subset", "seed", "lr"):
        if getattr(args, k) is not None:
            setattr(cfg, k, getattr(args, k))
    if args.norm is not None:
        if args.norm not in METHODS:
            p.error(f"--norm must be one of {', '.join(METHODS)}, not {args.norm!r}")
        cfg.norm = args.norm
    if args.widths:
        try:
            widths = [int(w) for w in args.widths.split(",")]
        except ValueError:
            p.error(f"--widths takes comma-separated integers such as 32,64,128,256, not {args.widths!r}")
        if not 1 <= len(widths) <= 4 or min(widths) < 1:
            p.error("--widths takes 1 to 4 positive widths (each stage halves the 48-pixel face)")
        cfg.model["widths"] = widths
    if args.teachers:
        cfg.teachers = [t for t in args.teachers.split(",") if t]
    if args.soft_targets:
        cfg.soft_targets = [t for t in args.soft_targets.split(",") if t]
    if args.degrade is not None:
        cfg.degrade = args.degrade
    for opt, attr in (("distill", "distill"), ("temperature", "temperature"), ("mix_alpha", "mix_alpha"),
                      ("cutmix", "cutmix"), ("ema", "ema_decay"), ("init", "init")):
        if getattr(args, opt) is not None:
            setattr(cfg, attr, getattr(args, opt))
    try:
        check_stage1(cfg)
    except ValueError as exc:
        p.error(str(exc))
    return cfg


def stage2_config(args, p) -> Stage2Config:
    if args.norm is not None or args.widths is not None:
        p.error("stage 2 reads the normalisation and the CNN widths from the stage-1 checkpoint it trains on; "
                "--norm and --widths are stage-1 options")
    cfg = Stage2Config()
    for opt, attr in (("epochs", "epochs"), ("seed", "seed"), ("clips", "clips_per_epoch"), ("train_faces", "train_faces"),
                      ("degrade", "degrade")):
        if getattr(args, opt) is not None:
            setattr(cfg, attr, getattr(args, opt))
    if not 0 <= cfg.degrade <= 1:
        p.error("--degrade is a share of faces, 0 to 1")
    return cfg


def main(argv=None) -> None:
    p = parser()
    args = p.parse_args(argv)
    for k in ("epochs", "threads", "stop_after", "subset", "clips", "train_faces"):
        v = getattr(args, k, None)
        if v is not None and v < (1 if k in ("epochs", "clips") else 0):
            p.error(f"--{k.replace('_', '-')} must be {'positive' if k in ('epochs', 'clips') else 'zero or more'}")
    try:
        if args.stage == "stage1":
            train_stage1(stage1_config(args, p), args.data, args.out, args.threads, args.stop_after, args.device)
        else:
            train_stage2(stage2_config(args, p), args.data, args.out, args.threads, args.stop_after)
    except (ConfigMismatch, FileNotFoundError, ValueError) as exc:
        p.exit(2, f"{p.prog}: error: {exc}\n")


if __name__ == "__main__":
    main()
