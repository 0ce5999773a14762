"""The shown label's rule, measured: how much flicker each rule saves against how often the label it
shows contradicts the probabilities beside it, on the video-like benchmark's PublicTest clips only.

    python -m emotion.training.label_rules --data ../shared/datasets/fer2013.zip \
        [--checkpoint emotion/weights/fer_cnn_lstm.pt] [--out benchmarks/results/label_rule.json]

Every rule reads the same CNN-LSTM probabilities, run frame by frame as a stream runs them (the
engine's mirror view, stills-only biases left out). Per rule: macro F1 and accuracy of the shown
label, flicker (label changes per 100 frames), lag (frames from a real change of expression until the
label shows it), and the contradiction rate (share of frames whose shown label is not the most probable
emotion of the probabilities shown with it), with the mean and largest lead of the most probable over
the shown label on those frames.

The rule chosen (``choose``): among the rules whose macro F1 is within half a point of the best and
that keep at least ``KEEP_FLICKER_GAIN`` of the flicker reduction of the margin shipped before (0.3,
against the plain argmax), the one with the lowest contradiction rate.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch

from emotion.ml.labelling import contradiction, hysteresis_labels
from .video_benchmark import labels_row

# The margin shipped before this measurement, and the rule the flicker gain is counted from.
PREVIOUS = "margin 0.3"
ARGMAX = "margin 0"
KEEP_FLICKER_GAIN = 0.8
F1_TOLERANCE = 0.005


def rule_grid() -> dict:
    """name -> (margin, steps, decay) of ``hysteresis_labels``; steps 0 is the margin alone."""
    rules = {f"margin {m:g}": (m, 0, False) for m in (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)}
    for m in (0.15, 0.3):
        for k in (5, 10, 20, 30):
            rules[f"margin {m:g} or {k} steps"] = (m, k, False)
    for k in (10, 20, 30, 60):
        rules[f"margin 0.3 decaying over {k} steps"] = (0.3, k, True)
    return rules


def rule_row(probs: list, ys: list, rule: tuple) -> dict:
    """Scores of one rule over groups of clips: ``probs`` (n, T, C) and ``ys`` (n, T) per group."""
    margin, steps, decay = rule
    preds = [hysteresis_labels(p, margin, steps, decay) for p in probs]
    row = labels_row(preds, ys)
    flat_p = np.concatenate([p.reshape(-1, p.shape[-1]) for p in probs])
    row.update(contradiction(flat_p, np.concatenate([s.ravel() for s in preds])))
    return row


def tradeoff(probs: list, ys: list, rules: dict | None = None) -> dict:
    return {name: rule_row(probs, ys, rule) for name, rule in (rules or rule_grid()).items()}


def choose(rows: dict) -> str:
    """The rule with the least contradiction among those within F1_TOLERANCE of the best macro F1 that
    keep KEEP_FLICKER_GAIN of the previous margin's flicker reduction (see the module's docstring)."""
    best_f1 = max(r["macro_f1"] for r in rows.values())
    gain = rows[ARGMAX]["flicker_per_100"] - rows[PREVIOUS]["flicker_per_100"]
    most_flicker = rows[ARGMAX]["flicker_per_100"] - KEEP_FLICKER_GAIN * gain
    ok = [n for n, r in rows.items()
          if r["macro_f1"] >= best_f1 - F1_TOLERANCE and r["flicker_per_100"] <= most_flicker]
    return min(ok, key=lambda n: (rows[n]["contradiction_rate"], rows[n]["max_lead_when_contradicted"]))


def public_probs(checkpoint: Path, data: str) -> tuple:
    """The CNN-LSTM's stream probabilities and the labels of the video-like PublicTest clips."""
    from emotion.ml.checkpoint import biases_for_stills_only, load_checkpoint
    from .data import load_fer2013
    from .video_benchmark import public_video_clips
    from .train_common import DEFAULT_CACHE

    model, meta = load_checkpoint(checkpoint)
    model = model.to(memory_format=torch.channels_last)
    if biases_for_stills_only(meta):
        model.output_bias.zero_()                 # streams never get the still faces' biases
    clips = public_video_clips(model, meta, load_fer2013(data, cache_dir=DEFAULT_CACHE))
    return clips.lstm_probs(model), clips.ys, clips.describe()


def machine() -> str:
    """The CPU (its model name, cores, and whether the CNN ran in bf16), for the result file."""
    from .train_common import engine_bf16

    try:
        names = [ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                 if ln.startswith("model name")]
    except OSError:
        names = []
    cpu = names[0] if names else platform.processor() or platform.machine()
    return (f"{cpu}, {torch.get_num_threads()} threads, bf16 {'on' if engine_bf16() else 'off (no AVX-512 BF16)'}, "
            f"torch {torch.__version__}")


def measure(checkpoint: Path, data: str) -> dict:
    start = time.time()
    probs, ys, clips = public_probs(checkpoint, data)
    rows = tradeoff(probs, ys)
    chosen = choose(rows)
    return {"split": "PublicTest (video-like clips; PrivateTest never read)", "clips": clips,
            "checkpoint": str(checkpoint), "machine": machine(),
            "seconds": round(time.time() - start, 1),
            "criterion": f"least contradiction rate among rules whose macro F1 is within {F1_TOLERANCE} of the best "
                         f"and that keep at least {KEEP_FLICKER_GAIN:.0%} of the flicker reduction of "
                         f"'{PREVIOUS}' against '{ARGMAX}'",
            "chosen": chosen, "rules": rows}


def format_table(res: dict) -> str:
    lines = [f"{'rule':34s} {'mF1':>7s} {'acc':>7s} {'flicker':>8s} {'lag':>6s} {'contra':>7s} {'lead':>6s} {'max':>6s}"]
    for name, r in res["rules"].items():
        lines.append(f"{name:34s} {r['macro_f1']:7.4f} {r['frame_accuracy']:7.4f} {r['flicker_per_100']:8.2f} "
                     f"{r['lag_frames']:6.2f} {r['contradiction_rate']:7.2%} {r['mean_lead_when_contradicted']:6.3f} "
                     f"{r['max_lead_when_contradicted']:6.3f}" + ("  <- chosen" if name == res["chosen"] else ""))
    return "\n".join(lines)


def main(argv=None) -> None:
    from emotion.ml.engine import DEFAULT_CHECKPOINT

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="the FER2013 zip or CSV")
    p.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    p.add_argument("--out", type=Path, help="write the result JSON here")
    args = p.parse_args(argv)
    res = measure(args.checkpoint, args.data)
    print(format_table(res))
    print(f"chosen: {res['chosen']} ({res['criterion']})")
    if args.out:
        args.out.write_text(json.dumps(res, indent=1) + "\n")


if __name__ == "__main__":
    main()
