"""The time course's own page, /stimuli/<pk>/time-course/: the partial the stimulus page shows in its
"time-course" section (templates/stimuli/_timecourse.html), alone, with the stimulus data it reads."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from ..access import visible_stimulus
from . import data as course_data


def stimulus_data(stimulus) -> dict:
    """What the partial's script reads from #stimulus-data (the stimulus page writes the same)."""
    return {"id": stimulus.pk, "kind": stimulus.kind, "duration": stimulus.duration,
            "markers": course_data.markers(stimulus)}


@login_required
def time_course_page(request, pk: int):
    stimulus = visible_stimulus(request.user, pk)
    return render(request, "stimuli/time_course.html", {"stimulus": stimulus, "stimulus_data": stimulus_data(stimulus)})
