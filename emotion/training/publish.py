"""Ship a trained run: copy its stage-2 checkpoint into ``emotion/weights/`` with a model card.

    python -m emotion.training.publish --run runs/main --name fer-cnn-lstm-vN [--ablation runs/ablation.json]

The card holds the model and training configs, both stages' histories (PublicTest only), any extra
measurements given, and what card_history.py carries from the card it replaces (the replaced model
as the first entry of its history); ``python -m emotion.training.evaluate --card ...`` then adds the PrivateTest scores.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
from pathlib import Path

import torch

from .card_history import carried_forward
from emotion.ml.checkpoint import load_checkpoint, save_checkpoint
from emotion.ml.engine import DEFAULT_CHECKPOINT, WEIGHTS_DIR


def reliability(meta: dict) -> dict:
    """The temperature and reliability rule that ``robustness --fit`` wrote into the checkpoint, with
    the PublicTest figures they were chosen on; nothing when the run was not fitted."""
    fit = meta.get("reliability_fit")
    if not fit:
        return {}
    return {"reliability": {"temperature": meta["temperature"], "calibration": fit["calibration"],
                            "chosen_on_public_test": fit["choice"]}}


def publish(run: Path, extra: dict, name: str) -> Path:
    card_path = WEIGHTS_DIR / "model_card.json"
    previous = json.loads(card_path.read_text()) if card_path.exists() else {}
    if previous.get("name") == name:
        raise ValueError(f"{name} is the shipped model's name already: a new model gets a new name")
    model, meta = load_checkpoint(run / "stage2_best.pt")
    meta = {**meta, "name": name}
    save_checkpoint(DEFAULT_CHECKPOINT, model, meta)
    card = {
        "name": name,
        "checkpoint_sha256": hashlib.sha256(DEFAULT_CHECKPOINT.read_bytes()).hexdigest(),
        "classes": list(__import__("emotion.ml.labels", fromlist=["EMOTIONS"]).EMOTIONS),
        "input": "48x48 grayscale face, Haar crop, lighting normalisation '%s', per-image standardisation" % meta["norm"],
        "model_config": model.cfg.to_dict(),
        "parameters": sum(p.numel() for p in model.parameters()),
        "data": "FER2013: trained on Training; epochs, checkpoint and smoothing chosen on PublicTest; "
                "PrivateTest scored once",
        "stage1": {"config": meta["stage1"], "best_epoch": meta["best_epoch"],
                   "history": json.loads((run / "stage1_history.json").read_text())},
        "calibration": meta.get("calibration"),
        "stage2": {"config": meta["stage2"], "best_epoch": meta["stage2_best_epoch"], "ema_alpha": meta["ema_alpha"],
                   "public_smoothing": meta.get("public_smoothing"),
                   "history": json.loads((run / "stage2_history.json").read_text())},
        "trained_on": f"{platform.machine()} CPU, torch {torch.__version__}",
        "limitations": [
            "FER2013 has no video: the temporal parts were trained and benchmarked on synthetic clips built "
            "from still faces (camera jitter, lighting drift, blur, noise, occlusion; expressions held for "
            "seconds, person swaps that keep the expression); FER2013 has no identities, so a change of "
            "expression inside a clip is also a change of face.",
            "FER2013 faces are mostly frontal, 48x48, and skewed in age and ethnicity; 'disgust' has 436 "
            "training faces.",
        ],
        **carried_forward(previous),
        **reliability(meta),
        **extra,
    }
    card_path.write_text(json.dumps(card, indent=1))
    return DEFAULT_CHECKPOINT


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", type=Path, required=True)
    p.add_argument("--ablation", type=Path, help="JSON of the normalisation ablation to include")
    p.add_argument("--name", required=True, help="the model's name in the card and the engine's version")
    args = p.parse_args(argv)
    for need in ("stage2_best.pt", "stage1_history.json", "stage2_history.json"):
        if not (args.run / need).exists():
            p.error(f"{args.run / need} is missing: publish ships a run whose two stages have finished")
    extra = {"normalisation_ablation": json.loads(args.ablation.read_text())} if args.ablation else {}
    try:
        print(publish(args.run, extra, args.name))
    except ValueError as refused:
        p.error(str(refused))


if __name__ == "__main__":
    main()
