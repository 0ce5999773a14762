"""Evaluation: PrivateTest accuracy of single faces, and the temporal benchmark on synthetic clips.

    python -m emotion.ml.evaluate --data ../shared/datasets/fer2013.zip --checkpoint runs/main/stage2_best.pt \
        --card emotion/weights/model_card.json

The temporal benchmark builds clips from PrivateTest faces exactly as stage 2 builds its training
clips (fixed seed) and compares three ways to label each frame: the per-frame CNN, the CNN with
exponential smoothing of its probabilities (factor chosen on PublicTest clips during stage 2), and the
CNN-LSTM. Flicker counts changes of the predicted label per 100 frames; lag counts the frames from a
real change of expression until the prediction first shows the new one.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from .checkpoint import load_checkpoint
from .data import load_fer2013
from .labelling import hysteresis_labels
from .labels import EMOTIONS
from .metrics import classification_report
from .sequences import ClipSpec

PRIVATE_CLIP_SEED = 20_131_307
PRIVATE_CLIPS = 1500
# The PublicTest clips stage 2 chooses on (train_temporal: seed 10_001, 600 clips).
PUBLIC_CLIP_SEED = 10_001
PUBLIC_CLIPS = 600
MARGINS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)


def flicker_per_100(pred: np.ndarray) -> float:
    """pred (B, T) labels -> label changes between consecutive frames, per 100 frames."""
    changes = (pred[:, 1:] != pred[:, :-1]).sum()
    return float(100.0 * changes / pred[:, 1:].size)


def mean_lag(pred: np.ndarray, true: np.ndarray) -> float:
    """Mean frames from each real label change until the prediction first equals the new label.

    A change never followed before the next real change (or the clip's end) counts the whole span.
    """
    lags = []
    for p, y in zip(pred, true):
        cuts = np.flatnonzero(y[1:] != y[:-1]) + 1
        ends = list(cuts[1:]) + [len(y)]
        for c, e in zip(cuts, ends):
            hit = np.flatnonzero(p[c:e] == y[c])
            lags.append(hit[0] if len(hit) else e - c)
    return float(np.mean(lags)) if lags else 0.0


def temporal_row(probs: np.ndarray, y: np.ndarray, pred: np.ndarray = None) -> dict:
    """Scores of (B, T, C) probabilities against (B, T) labels; ``pred`` overrides the argmax label
    (the shown label, with hysteresis)."""
    pred = probs.argmax(-1) if pred is None else pred
    rep = classification_report(y.ravel(), pred.ravel())
    return {"frame_accuracy": rep["accuracy"], "macro_recall": rep["macro_recall"], "macro_f1": rep["macro_f1"],
            "flicker_per_100": flicker_per_100(pred), "lag_frames": mean_lag(pred, y)}


@torch.no_grad()
def single_face_probs(model, faces01: torch.Tensor, temporal: bool, batch: int = 512) -> np.ndarray:
    """Each face alone: the CNN (flip-averaged), or the CNN-LSTM on a sequence of one."""
    from .train_temporal import clip_frames
    feats, logits = clip_frames(model, faces01.unsqueeze(1), chunk=batch)
    if temporal:
        logits, _ = model.temporal(feats, logits)
    return model.probs(logits[:, 0]).numpy()


def stream_choices(model, meta: dict, splits: dict, spec: ClipSpec) -> dict:
    """What video and live streams use, chosen on PublicTest clips: whether the CNN also reads the
    mirror image (kept only if dropping it costs more than half a point of macro F1), and the shown
    label's hysteresis margin: the largest of MARGINS whose macro F1 is within half a point of the
    best and whose lag grows by at most one frame over the plain argmax."""
    from .train import prepare
    from .train_temporal import build_clip_set, lstm_probs
    x, y = splits["PublicTest"]
    faces, labels = prepare(x, meta["norm"]), torch.from_numpy(y)
    views, probs = {}, {}
    for mirror in (True, False):
        feats, logits, ys = build_clip_set(faces, labels, PUBLIC_CLIPS, PUBLIC_CLIP_SEED, spec, True, model,
                                           mirror=mirror)
        probs[mirror] = lstm_probs(model, feats, logits)
        views["mirror_averaged" if mirror else "single_view"] = temporal_row(probs[mirror], ys.numpy())
    mirror = views["single_view"]["macro_f1"] < views["mirror_averaged"]["macro_f1"] - 0.005
    ys = ys.numpy()
    margins = {m: temporal_row(probs[mirror], ys, hysteresis_labels(probs[mirror], m)) for m in MARGINS}
    best = max(r["macro_f1"] for r in margins.values())
    lag = margins[0.0]["lag_frames"]
    margin = max(m for m, r in margins.items() if r["macro_f1"] >= best - 0.005 and r["lag_frames"] <= lag + 1.0)
    return {"clips": PUBLIC_CLIPS, "seed": PUBLIC_CLIP_SEED, "views": views, "mirror": mirror,
            "hysteresis": {str(m): r for m, r in margins.items()}, "margin": margin}


def evaluate(checkpoint: Path, data: str) -> dict:
    from .train import DEFAULT_CACHE, prepare
    from .train_temporal import build_clip_set, ema_probs, lstm_probs
    model, meta = load_checkpoint(checkpoint)
    model = model.to(memory_format=torch.channels_last)
    splits = load_fer2013(data, cache_dir=DEFAULT_CACHE)
    x, y = splits["PrivateTest"]
    faces = prepare(x, meta["norm"])
    results = {"private_test": {}, "temporal_benchmark": {}}
    for name, temporal in (("cnn", False), ("cnn_lstm_sequence_of_one", True)):
        rep = classification_report(y, single_face_probs(model, faces, temporal).argmax(1))
        results["private_test"][name] = rep
    spec = ClipSpec(**meta.get("stage2", {}).get("clip", asdict(ClipSpec())))
    feats, logits, ys = build_clip_set(faces, torch.from_numpy(y), PRIVATE_CLIPS, PRIVATE_CLIP_SEED, spec, True, model)
    cnn = model.probs(logits).numpy()
    alpha = meta.get("ema_alpha", 0.5)
    ys = ys.numpy()
    results["temporal_benchmark"] = {
        "clips": PRIVATE_CLIPS, "frames_per_clip": spec.length, "seed": PRIVATE_CLIP_SEED,
        "true_changes_per_100": flicker_per_100(ys),
        "per_frame_cnn": temporal_row(cnn, ys),
        f"cnn_ema_alpha_{alpha}": temporal_row(ema_probs(cnn, alpha), ys),
        "cnn_lstm": temporal_row(lstm_probs(model, feats, logits), ys),
    }
    # Video and live: the CNN view and the shown label's hysteresis, chosen on PublicTest clips, then
    # scored here on the PrivateTest clips.
    choice = results["stream_choices"] = stream_choices(model, meta, splits, spec)
    if not choice["mirror"]:
        feats, logits, _ = build_clip_set(faces, torch.from_numpy(y), PRIVATE_CLIPS, PRIVATE_CLIP_SEED, spec, True,
                                          model, mirror=False)
    stream = lstm_probs(model, feats, logits)
    view = "mirror" if choice["mirror"] else "single_view"
    tb = results["temporal_benchmark"]
    tb[f"cnn_lstm_{view}"] = temporal_row(stream, ys)
    tb[f"cnn_lstm_{view}_hysteresis_{choice['margin']}"] = temporal_row(
        stream, ys, hysteresis_labels(stream, choice["margin"]))
    return results


def format_tables(res: dict) -> str:
    lines = ["PrivateTest, single faces (3589 images, scored once)",
             f"{'model':32s} {'acc':>7s} {'mRecall':>8s} {'mF1':>7s}"]
    for name, rep in res["private_test"].items():
        lines.append(f"{name:32s} {rep['accuracy']:7.4f} {rep['macro_recall']:8.4f} {rep['macro_f1']:7.4f}")
    ch = res.get("stream_choices")
    if ch:
        lines += ["", f"Chosen on {ch['clips']} PublicTest clips: mirror view {'kept' if ch['mirror'] else 'dropped'} "
                      f"(macro F1 {ch['views']['mirror_averaged']['macro_f1']:.4f} with, "
                      f"{ch['views']['single_view']['macro_f1']:.4f} without); hysteresis margin {ch['margin']}"]
    tb = res["temporal_benchmark"]
    lines += ["", f"Temporal benchmark: {tb['clips']} PrivateTest clips x {tb['frames_per_clip']} frames, "
              f"seed {tb['seed']}, true changes {tb['true_changes_per_100']:.2f}/100 frames",
              f"{'method':40s} {'frameAcc':>9s} {'mRecall':>8s} {'mF1':>7s} {'flicker':>8s} {'lag':>6s}"]
    for name, row in tb.items():
        if isinstance(row, dict):
            lines.append(f"{name:40s} {row['frame_accuracy']:9.4f} {row['macro_recall']:8.4f} {row['macro_f1']:7.4f} "
                         f"{row['flicker_per_100']:8.2f} {row['lag_frames']:6.2f}")
    cm = res["private_test"]["cnn_lstm_sequence_of_one"]["confusion"]
    lines += ["", "Confusion (CNN-LSTM, sequence of one; rows true, columns predicted)",
              " " * 9 + " ".join(f"{e[:7]:>7s}" for e in EMOTIONS)]
    lines += [f"{e[:8]:8s} " + " ".join(f"{v:7d}" for v in row) for e, row in zip(EMOTIONS, cm)]
    return "\n".join(lines)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True)
    p.add_argument("--checkpoint", required=True, type=Path)
    p.add_argument("--card", type=Path, help="model card JSON to write the results into")
    args = p.parse_args(argv)
    res = evaluate(args.checkpoint, args.data)
    print(format_tables(res))
    if args.card:
        card = json.loads(args.card.read_text()) if args.card.exists() else {}
        card["evaluation"] = res
        args.card.write_text(json.dumps(card, indent=1))


if __name__ == "__main__":
    main()
