"""How much a result can be trusted: measures of the face the model saw, and one rule over them.

A result is ``reliable`` when all of these hold:

- ``source == "detected"``: the face detector confirmed a face at this box in this very frame. A box
  that only the tracker's template matching holds (a hand over the face, a head turned away) may be
  on the right person, but what the model sees there is not a clear frontal face.
- ``face_size >= 40`` px: smaller faces carry too little detail (the model reads 48x48 pixels).
- ``sharpness >= 400``: the variance of the Laplacian of the 48x48 face. 99% of FER2013's Training
  faces are sharper (its 1st percentile is 423); a blurrier face is outside what the model learnt.
- ``50 <= brightness <= 205``: the mean grey level of the 48x48 face, FER2013 Training's 1st and 99th
  percentiles (51.5, 203.6); darker or brighter faces have lost their detail to noise or clipping.
"""

from __future__ import annotations

import cv2
import numpy as np

from .results import DETECTED

MIN_FACE_SIZE = 40
MIN_SHARPNESS = 400.0
BRIGHTNESS_RANGE = (50.0, 205.0)
RULE = (f"detected in the frame, face at least {MIN_FACE_SIZE} px, sharpness at least {MIN_SHARPNESS:g}, "
        f"brightness {BRIGHTNESS_RANGE[0]:g}-{BRIGHTNESS_RANGE[1]:g}")


def sharpness(face: np.ndarray) -> float:
    """Variance of the Laplacian of a grey face crop: low for blurred or flat faces."""
    return float(cv2.Laplacian(face, cv2.CV_32F).var())


def brightness(face: np.ndarray) -> float:
    return float(face.mean())


def is_reliable(source: str, face_size: float, sharp: float, bright: float) -> bool:
    return (source == DETECTED and face_size >= MIN_FACE_SIZE and sharp >= MIN_SHARPNESS
            and BRIGHTNESS_RANGE[0] <= bright <= BRIGHTNESS_RANGE[1])
