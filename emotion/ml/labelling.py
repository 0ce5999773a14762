"""The label shown for a tracked face, with hysteresis.

Shown as the plain argmax, a face whose two most probable emotions are nearly tied would change
label on every small change of the image. The shown label instead stays until another emotion leads
it by more than ``LABEL_MARGIN`` in probability. The margin was chosen on PublicTest clips of the
temporal benchmark by ``evaluate.stream_choices`` (the largest of 0 to 0.3 whose macro F1 stays within
half a point of the best and whose lag grows by at most a frame); on PrivateTest clips it halves the
label changes (17.7 to 8.0 per 100 frames) at the same macro F1, for 0.7 frames more lag (the model
card and the README have the tables).
"""

from __future__ import annotations

from typing import Optional

import numpy as np

LABEL_MARGIN = 0.3


def stable_label(probs: np.ndarray, current: Optional[int], margin: float = LABEL_MARGIN) -> int:
    """The label to show now, given the probabilities (7,) and the label shown so far (or None)."""
    best = int(np.argmax(probs))
    if current is None or current < 0 or probs[best] - probs[current] > margin:
        return best
    return current


def hysteresis_labels(probs: np.ndarray, margin: float = LABEL_MARGIN) -> np.ndarray:
    """(B, T, C) probabilities of B sequences -> (B, T) shown labels."""
    b, t, _ = probs.shape
    out = np.empty((b, t), np.int64)
    out[:, 0] = probs[:, 0].argmax(-1)
    rows = np.arange(b)
    for i in range(1, t):
        p = probs[:, i]
        best = p.argmax(-1)
        keep = p[rows, best] - p[rows, out[:, i - 1]] <= margin
        out[:, i] = np.where(keep, out[:, i - 1], best)
    return out


def timed_labels(probs: np.ndarray, margin: float, steps: int, decay: bool = False) -> np.ndarray:
    """(B, T, C) probabilities -> (B, T) shown labels under a time-based rule, measured against the
    plain margin by ``label_rules``: a challenger (the most probable emotion, when it is not the shown
    one) takes over when it leads by more than ``margin``, or once it has been the challenger for
    ``steps`` consecutive steps (with any lead). With ``decay`` the margin instead shrinks linearly
    over those steps (``margin * (1 - r / steps)`` after r steps), so a long lead needs less time."""
    b, t, _ = probs.shape
    out = np.empty((b, t), np.int64)
    out[:, 0] = probs[:, 0].argmax(-1)
    rows = np.arange(b)
    challenger, run = np.full(b, -1), np.zeros(b, np.int64)
    for i in range(1, t):
        p, shown = probs[:, i], out[:, i - 1]
        best = p.argmax(-1)
        leading = best != shown
        run = np.where(leading, np.where(best == challenger, run + 1, 1), 0)
        challenger = np.where(leading, best, -1)
        if decay:
            need = margin * np.clip(1.0 - run / steps, 0.0, None)
        else:
            need = np.where(run >= steps, 0.0, margin)
        switch = leading & (p[rows, best] - p[rows, shown] > need)
        out[:, i] = np.where(switch, best, shown)
        run, challenger = np.where(switch, 0, run), np.where(switch, -1, challenger)
    return out


def contradiction(probs: np.ndarray, shown: np.ndarray) -> dict:
    """How far shown labels (..., ) contradict the probabilities (..., C) they are shown beside: the
    share of frames whose shown label is not the most probable emotion, and the lead of the most
    probable over the shown one on those frames (mean and largest), in probability."""
    top = probs.argmax(-1)
    differ = top != shown
    lead = np.take_along_axis(probs, top[..., None], -1)[..., 0] - np.take_along_axis(probs, shown[..., None], -1)[..., 0]
    held = lead[differ]
    return {"contradiction_rate": float(differ.mean()) if differ.size else 0.0,
            "mean_lead_when_contradicted": float(held.mean()) if held.size else 0.0,
            "max_lead_when_contradicted": float(held.max()) if held.size else 0.0,
            "frames": int(differ.size), "contradicted_frames": int(differ.sum())}
