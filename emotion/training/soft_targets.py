"""Teachers' soft targets, kept small enough to commit: what must outlive a session or a machine.

A teacher's targets are its mirror-averaged CNN logits (no output bias) for every Training and
PublicTest face, in the order ``data.load_fer2013`` gives them, stored as float16 in
``<name>.npz`` with ``<name>.json`` beside it: the teacher's PublicTest scores, the file's SHA-256,
the checkpoint it came from and the exact command that made it. A student reads the logits of one
or more teachers (``SoftTargets``), softened at its own temperature and averaged over the teachers,
so the teachers themselves are never needed again.

    python -m emotion.training.soft_targets --data ../shared/datasets/fer2013.zip \
        --checkpoint runs/teacher-a/stage1_best.pt --name teacher-a
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shlex
import sys
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from emotion.ml.checkpoint import load_checkpoint
from .distill import averaged, weight_average
from .metrics import classification_report
from .train_common import load_splits, predict_logits, prepare

SOFT_TARGET_DIR = Path(__file__).resolve().parent.parent / "weights" / "lineage"
SPLITS = ("Training", "PublicTest")


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def last_epoch(checkpoint: Path):
    """The run's model at its last finished epoch: the weight average when the run kept one.

    A teacher started from a family member's weights scores best on PublicTest in its first epochs,
    while it still is that member; its last epoch is the one that makes other mistakes."""
    model, meta = load_checkpoint(checkpoint)
    resume = torch.load(Path(checkpoint).with_name("stage1_last.pt"), map_location="cpu", weights_only=True)
    model.load_state_dict(resume["model"])
    if resume.get("average"):                      # restored as the run itself restores it on resume
        average = weight_average(model.cnn, resume["config"]["ema_decay"])
        average.load_state_dict(resume["average"])
        model.cnn = average.module
    return model, {**meta, "epoch": resume["epoch"] + 1}          # epochs finished (the file counts from 0)


def make(checkpoint: Path, data: str, name: str, out_dir: Path = SOFT_TARGET_DIR, command: str = "",
         last: bool = False) -> dict:
    model, meta = last_epoch(checkpoint) if last else load_checkpoint(checkpoint)
    model = model.to(memory_format=torch.channels_last)
    splits = load_splits(data)
    arrays, scores = {}, {}
    for split in SPLITS:
        x, y = splits[split]
        logits = predict_logits(model, prepare(x, meta["norm"]))
        arrays[split] = logits.astype(np.float16)
        rep = classification_report(y, logits.argmax(1))
        scores[split] = {"accuracy": rep["accuracy"], "macro_f1": rep["macro_f1"]}
    out_dir.mkdir(parents=True, exist_ok=True)
    npz = out_dir / f"{name}.npz"
    np.savez_compressed(npz, **arrays)
    record = {"name": name, "file": npz.name, "sha256": sha256(npz), "checkpoint": str(checkpoint),
              "checkpoint_sha256": sha256(checkpoint), "epoch": "last" if last else "best", "norm": meta["norm"],
              "model_config": model.cfg.to_dict(),
              "what": "mirror-averaged CNN logits, float16, no output bias; rows follow load_fer2013's order",
              "scores": scores, "command": command}
    (out_dir / f"{name}.json").write_text(json.dumps(record, indent=1) + "\n")
    return record


def load(path: Path) -> dict:
    """{split: (N, C) float32 logits} of one teacher, refused unless the file matches its record."""
    path = Path(path)
    record = json.loads(path.with_suffix(".json").read_text())
    if sha256(path) != record["sha256"]:
        raise ValueError(f"{path} does not match the checksum in {path.with_suffix('.json').name}: "
                         "the soft targets were changed after they were recorded")
    with np.load(path) as z:
        return {s: z[s].astype(np.float32) for s in z.files}


class SoftTargets:
    """The averaged, temperature-softened targets of several teachers' stored logits."""

    def __init__(self, paths: Sequence[str], split: str = "Training"):
        self.paths = list(paths)
        self.logits = torch.from_numpy(np.stack([load(p)[split] for p in self.paths]))  # (K, N, C)

    def __len__(self) -> int:
        return self.logits.shape[1]

    def probs(self, idx: torch.Tensor, temperature: float) -> torch.Tensor:
        """(B,) face indices -> (B, C) targets: each teacher's softmax at ``temperature``, averaged."""
        return averaged(self.logits[:, idx], temperature)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True)
    p.add_argument("--checkpoint", required=True, type=Path)
    p.add_argument("--name", required=True, help="file name of the targets (no extension)")
    p.add_argument("--out", type=Path, default=SOFT_TARGET_DIR)
    p.add_argument("--last", action="store_true",
                   help="read the run's last epoch (stage1_last.pt beside the checkpoint), not its best one")
    args = p.parse_args(argv)
    command = "python -m emotion.training.soft_targets " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    record = make(args.checkpoint, args.data, args.name, args.out, command, args.last)
    print(json.dumps(record["scores"]))


if __name__ == "__main__":
    main()
