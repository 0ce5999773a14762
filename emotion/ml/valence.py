"""Valence: how positive or negative a face looks, one number per result in [-1, 1].

The definition is Noldus FaceReader's: the intensity of the one positive emotion, happy, minus the
intensity of the strongest of the negative ones (angry, disgust, fear, sad). Surprise can be either
and neutral is neither, so both are left out. A face that is plainly happy reads near +1, one that is
plainly angry, disgusted, afraid or sad near -1, and a neutral or surprised one near 0.

Defined here once, for a row in Python (exports of analyses, studies and live sessions); the database's
form, for the statistics that aggregate there, is research/stats/valence.py's ``valence_expression``, built
from the same names, and a test checks the two agree.
"""

from __future__ import annotations

from typing import Mapping

POSITIVE = "happy"
NEGATIVE = ("angry", "disgust", "fear", "sad")


def valence(probs: Mapping[str, float]) -> float:
    """``probs``: a result row, or any mapping with the emotions' probabilities."""
    return float(probs[POSITIVE]) - max(float(probs[e]) for e in NEGATIVE)
