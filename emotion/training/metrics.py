"""Classification and calibration metrics, in plain numpy."""

from __future__ import annotations

import numpy as np

from emotion.ml import quality
from emotion.ml.labels import EMOTIONS, NUM_CLASSES


def confusion(y_true: np.ndarray, y_pred: np.ndarray, k: int = NUM_CLASSES) -> np.ndarray:
    return np.bincount(np.asarray(y_true) * k + np.asarray(y_pred), minlength=k * k).reshape(k, k)


def classification_report(y_true, y_pred) -> dict:
    cm = confusion(y_true, y_pred)
    tp = np.diag(cm).astype(float)
    recall = tp / np.maximum(cm.sum(1), 1)
    precision = tp / np.maximum(cm.sum(0), 1)
    f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0)
    return {
        "accuracy": float(tp.sum() / max(cm.sum(), 1)),
        "macro_recall": float(recall.mean()),
        "macro_f1": float(f1.mean()),
        "per_class_f1": {e: float(v) for e, v in zip(EMOTIONS, f1)},
        "confusion": cm.tolist(),
    }


def ece(probs: np.ndarray, y: np.ndarray, bins: int = 15) -> float:
    """Expected calibration error of the top probability, equal-width bins."""
    conf, right = probs.max(1), probs.argmax(1) == y
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        m = which == b
        if m.any():
            total += m.mean() * abs(right[m].mean() - conf[m].mean())
    return float(total)


def nll(probs: np.ndarray, y: np.ndarray) -> float:
    return float(-np.log(np.clip(probs[np.arange(len(y)), y], 1e-12, 1)).mean())


def fit_temperature(probs: np.ndarray, y: np.ndarray) -> float:
    """The temperature (0.25 to 4, steps of 0.01) that minimises the negative log-likelihood."""
    grid = np.round(np.arange(0.25, 4.0001, 0.01), 2)
    return float(grid[int(np.argmin([nll(quality.calibrated(probs, t), y) for t in grid]))])
