"""How much a result can be trusted: measures of the face the model saw, and one rule over them.

Measures, all of the 48x48 grey face the model read (before the lighting normalisation):

- ``face_size``: side of the face's box in the frame, in pixels.
- ``sharpness``: the variance of its Laplacian. Low for blurred, tiny or flat faces; sensor noise
  raises it, which is why it is never read without ``noise`` beside it.
- ``brightness``: its mean grey level.
- ``noise``: the standard deviation of its sensor noise in grey levels, estimated from the response
  to a 3x3 operator that cancels smooth shading and straight edges (Immerkaer's method). A clean
  FER2013 face reads about 4-5 (skin texture and hair count a little); each grey level of added noise
  adds about one.
- ``confidence``: the model's top probability after temperature scaling, so that on faces like
  PublicTest's, readings at a confidence of 0.6 are right about 60% of the time. The temperature is
  fitted on one half of PublicTest and stored with the checkpoint (``robustness.fit``).

A result is ``reliable`` when all of these hold (``RULE``):

- ``source == "detected"``: the face detector confirmed a face at this box in this very frame; a box
  only the tracker holds (a hand over the face, a head turned away) may be the right person, but not
  a clear frontal face.
- ``confidence >= MIN_CONFIDENCE``: the model itself is sure enough of this face. This is what
  separates right from wrong readings under every camera condition of the suite: a model trained on
  degraded faces is less sure of the ones it cannot read.
- ``face_size >= MIN_FACE_SIZE``, ``noise <= MAX_NOISE``, ``sharpness >= MIN_SHARPNESS`` and
  ``brightness`` within ``BRIGHTNESS_RANGE``: guards set just beyond the harshest faces the suite
  holds (a face caught at 16 px, shot noise that reads 34, the blurriest and darkest conditions),
  where the model was never shown to read, so that noisier, smaller, blurrier or darker faces than
  those are not trusted on confidence alone.

The thresholds were chosen on the camera-degradation suite built from PublicTest
(``robustness.choose_rule``): the rule that keeps the most readings while every condition's reliable
readings are at least 64% right and at least 87% of clean faces are kept, with the strictest guards
that cost under half a point of that. Their measured effect on PrivateTest is in
``emotion/weights/model_card.json`` (``reliability``) and docs/robustness.md.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .results import DETECTED

MIN_FACE_SIZE = 16
MIN_SHARPNESS = 20.0
MAX_NOISE = 40.0
BRIGHTNESS_RANGE = (10.0, 245.0)
MIN_CONFIDENCE = 0.4
RULE = (f"detected in the frame, face at least {MIN_FACE_SIZE} px, noise at most {MAX_NOISE:g}, "
        f"sharpness at least {MIN_SHARPNESS:g}, brightness {BRIGHTNESS_RANGE[0]:g}-{BRIGHTNESS_RANGE[1]:g}, "
        f"confidence at least {MIN_CONFIDENCE:g}")

_NOISE_KERNEL = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)


def sharpness(face: np.ndarray) -> float:
    """Variance of the Laplacian of a grey face crop: low for blurred or flat faces."""
    return float(cv2.Laplacian(face, cv2.CV_32F).var())


def brightness(face: np.ndarray) -> float:
    return float(face.mean())


def noise(face: np.ndarray) -> float:
    """Estimated sensor noise (standard deviation, grey levels) of a grey face crop."""
    response = cv2.filter2D(face.astype(np.float32), -1, _NOISE_KERNEL)[1:-1, 1:-1]
    return float(math.sqrt(math.pi / 2) * np.abs(response).mean() / 6.0)


def confidence(probs: np.ndarray, temperature: float = 1.0) -> float:
    """The top probability of (C,) probabilities after temperature scaling."""
    return float(calibrated(np.asarray(probs, np.float64)[None], temperature)[0].max())


def calibrated(probs: np.ndarray, temperature: float) -> np.ndarray:
    """(N, C) probabilities -> the same softened (T > 1) or sharpened (T < 1) by temperature ``T``:
    softmax(log p / T), which is temperature scaling of the logits the probabilities came from."""
    z = np.log(np.clip(probs, 1e-12, 1.0)) / temperature
    z -= z.max(-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(-1, keepdims=True)


def is_reliable(source: str, face_size: float, sharp: float, bright: float, noise_sigma: float,
                conf: float) -> bool:
    return (source == DETECTED and face_size >= MIN_FACE_SIZE and noise_sigma <= MAX_NOISE
            and sharp >= MIN_SHARPNESS and BRIGHTNESS_RANGE[0] <= bright <= BRIGHTNESS_RANGE[1]
            and conf >= MIN_CONFIDENCE)
