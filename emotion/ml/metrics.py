"""Classification and temporal metrics, in plain numpy."""

from __future__ import annotations

import numpy as np

from .labels import EMOTIONS, NUM_CLASSES


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
