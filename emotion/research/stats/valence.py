"""Valence for the database: emotion/ml/valence.py's definition as an expression over FrameResult's
columns, so the statistics aggregate it where the results are. A test checks the two agree."""

from __future__ import annotations

from django.db.models import F
from django.db.models.functions import Greatest

from emotion.ml.valence import NEGATIVE, POSITIVE


def valence_expression():
    """GREATEST on PostgreSQL, MAX on SQLite."""
    return F(POSITIVE) - Greatest(*NEGATIVE)
