"""Who reaches a stimulus: whoever reaches its study, by the study's rule (emotion/access.py). Members
see its stimuli, markers and media; editors and the owner upload, change and delete them. A stimulus of
a study the user may not see is a 404, like the study."""

from __future__ import annotations

from django.db import models
from django.shortcuts import get_object_or_404

from emotion.access import study_may, visible_studies

from .models import Stimulus

# Adding, changing and deleting stimuli and their markers is the study's own data besides analyses:
# its "edit" right (editor or owner, or research.change_study).
CHANGE = "edit"


def visible_stimuli(user) -> models.QuerySet:
    return Stimulus.objects.filter(study__in=visible_studies(user).values("pk")).select_related("study")


def visible_stimulus(user, pk) -> Stimulus:
    """The stimulus, with its study; a 404 when the user may not see its study (or there is none)."""
    return get_object_or_404(visible_stimuli(user), pk=pk)


def stimulus_may_change(user, stimulus: Stimulus) -> bool:
    return study_may(user, stimulus.study, CHANGE)
