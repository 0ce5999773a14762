"""Valence: how positive or negative a face looks, one number per result in [-1, 1].

The definition is Noldus FaceReader's: the intensity of the one positive emotion, happy, minus the
intensity of the strongest of the negative ones (angry, disgust, fear, sad). Surprise can be either
and neutral is neither, so both are left out. A face that is plainly happy reads near +1, one that is
plainly angry, disgusted, afraid or sad near -1, and a neutral or surprised one near 0.

It is defined here once, twice written: ``valence`` for a row in Python (the exports) and
``valence_expression`` for the database (the statistics, which aggregate there). A test checks they
agree.
"""

from __future__ import annotations

from typing import Mapping

from django.db.models import F
from django.db.models.functions import Greatest

POSITIVE = "happy"
NEGATIVE = ("angry", "disgust", "fear", "sad")


def valence(probs: Mapping[str, float]) -> float:
    """``probs``: a result row, or any mapping with the emotions' probabilities."""
    return float(probs[POSITIVE]) - max(float(probs[e]) for e in NEGATIVE)


def valence_expression():
    """The same, as an expression over FrameResult's columns (GREATEST on PostgreSQL, MAX on SQLite)."""
    return F(POSITIVE) - Greatest(*NEGATIVE)
