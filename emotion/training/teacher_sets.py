"""Which teachers a student should learn from: every set of stored soft targets, ranked on PublicTest.

A student learns the average of its teachers' softened outputs, so a set is worth what that average
scores: the accuracy (then macro F1) on PublicTest of the mean of each teacher's softmax at the
student's temperature. A set that scores no better than its best member brings the student nothing
that member does not, however many teachers it holds.

    python -m emotion.training.teacher_sets --data ../shared/datasets/fer2013.zip \
        emotion/weights/lineage/v1.2.npz emotion/weights/lineage/v3-gen2.npz emotion/weights/lineage/raw.npz
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path
from typing import List, Sequence

import numpy as np
import torch

from .distill import averaged
from .metrics import classification_report
from .soft_targets import load
from .train_common import load_splits


def score(logits: Sequence[np.ndarray], labels: np.ndarray, temperature: float) -> dict:
    """Accuracy and macro F1 of the teachers' averaged softmax at ``temperature``."""
    probs = averaged(torch.from_numpy(np.stack(logits)), temperature)
    rep = classification_report(labels, probs.argmax(-1).numpy())
    return {"accuracy": rep["accuracy"], "macro_f1": rep["macro_f1"]}


def rank(paths: Sequence[Path], labels: np.ndarray, temperature: float = 4.0, largest: int = 4) -> List[dict]:
    """Every set of up to ``largest`` teachers, best first."""
    logits = {Path(p).stem: load(p)["PublicTest"] for p in paths}
    rows = []
    for k in range(1, min(largest, len(logits)) + 1):
        for names in itertools.combinations(sorted(logits), k):
            rows.append({"teachers": list(names), **score([logits[n] for n in names], labels, temperature)})
    return sorted(rows, key=lambda r: (r["accuracy"], r["macro_f1"]), reverse=True)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True)
    p.add_argument("--temperature", type=float, default=4.0, help="the student's temperature (default 4)")
    p.add_argument("--largest", type=int, default=4, help="most teachers in a set (default 4)")
    p.add_argument("--top", type=int, default=15, help="sets printed (default 15)")
    p.add_argument("targets", nargs="+", type=Path, help="stored soft targets (.npz)")
    args = p.parse_args(argv)
    labels = load_splits(args.data)["PublicTest"][1]
    for row in rank(args.targets, labels, args.temperature, args.largest)[:args.top]:
        print(f"{row['accuracy']:.4f}  {row['macro_f1']:.4f}  {' + '.join(row['teachers'])}")


if __name__ == "__main__":
    main()
