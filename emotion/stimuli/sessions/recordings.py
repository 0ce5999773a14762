"""The researcher's side of a stimulus' recordings: who reaches a stimulus, attaching a study's uploaded
analysis with an offset, deleting a recording, and each recording as the pages and the API list it.
In an attached upload, the participant is its main face (participant_face): the exports and the time
course both read that face.

Access is the study's (emotion/access.py): its members see a stimulus, its links and recordings; making
links, attaching and deleting take the "edit" right (editor or owner); anyone else gets a 404.
"""

from __future__ import annotations

import math
from typing import Optional

from django.db.models import Count
from django.shortcuts import get_object_or_404

from emotion.research.analyses.summary import faces_to_choose
from emotion.research.models import Analysis, FrameResult
from emotion.research.stats.statistics import USED
from emotion.web.refusals import Refused

from ..models import Recording, Stimulus

MAX_OFFSET_SECONDS = 24 * 3600


def participant_face(analysis: Analysis) -> Optional[int]:
    """The face of an attached upload that is the participant: the one the timeline page opens on (most
    reliable frames, then most frames: research/analyses/summary.faces_to_choose), counted from the
    stored results. One tracked person throughout, not whichever face is largest in a frame."""
    per_face = list(FrameResult.objects.filter(analysis=analysis).order_by().values("face_id").annotate(
        frames=Count("id"), reliable_frames=Count("id", filter=USED)))
    faces = faces_to_choose({"per_face": per_face, "frames_analysed": 0})
    return faces[0]["face_id"] if faces else None


def listed(stimulus: Stimulus):
    """The stimulus' recordings with what the list shows: participant, condition, link, frames stored."""
    return (stimulus.recordings.select_related("participant", "condition", "link", "analysis")
            .annotate(frames_stored=Count("frames")).order_by("-started_at"))


def attachable(stimulus: Stimulus):
    """The study's video analyses with a participant that are not attached to any stimulus yet."""
    return (Analysis.objects.filter(study=stimulus.study, kind=Analysis.Kind.VIDEO, participant__isnull=False,
                                    stimulus_recording__isnull=True)
            .select_related("participant", "condition").order_by("participant__code", "-created_at"))


def _offset(value) -> float:
    try:
        offset = float(value)
    except (TypeError, ValueError):
        raise Refused("The offset is a number of seconds, such as 12.5.", "offset") from None
    if not math.isfinite(offset) or abs(offset) > MAX_OFFSET_SECONDS:
        raise Refused(f"The offset must be a number of seconds within ±{MAX_OFFSET_SECONDS:,}.", "offset")
    return offset


def attach(stimulus: Stimulus, analysis_id, offset) -> Recording:
    """An uploaded recording of the study (a lab session) on the stimulus' time axis: stimulus time is the
    analysis' time minus ``offset``. Its participant and condition are the analysis'."""
    offset = _offset(offset)
    try:
        analysis = Analysis.objects.select_related("participant").get(pk=int(analysis_id), study=stimulus.study)
    except (TypeError, ValueError, Analysis.DoesNotExist):
        raise Refused("Choose an analysis of this study.", "analysis") from None
    if analysis.kind != Analysis.Kind.VIDEO:
        raise Refused("Only a video can be attached to a stimulus.", "analysis")
    if analysis.participant is None:
        raise Refused("Give the analysis a participant first (on its page): a recording is of one participant.",
                      "analysis")
    if Recording.objects.filter(analysis=analysis).exists():
        raise Refused("This analysis is attached to a stimulus already.", "analysis")
    return Recording.objects.create(stimulus=stimulus, participant=analysis.participant, condition=analysis.condition,
                                    source=Recording.Source.UPLOAD, state=Recording.State.DONE, analysis=analysis,
                                    offset=offset, model_version=analysis.model_version,
                                    started_at=analysis.created_at)


def get(stimulus: Stimulus, recording_id) -> Recording:
    return get_object_or_404(Recording.objects.select_related("participant", "condition", "analysis"),
                             pk=recording_id, stimulus=stimulus)


def summary(rec: Recording, frames_stored: Optional[int] = None) -> dict:
    """One recording as the API lists it; ``frames_stored`` when the query counted them."""
    if frames_stored is None:
        frames_stored = getattr(rec, "frames_stored", None)
    if frames_stored is None:
        frames_stored = rec.frames.count()
    return {"id": rec.pk, "participant": rec.participant.code,
            "condition": rec.condition.name if rec.condition else None,
            "source": rec.source, "state": rec.state, "link": rec.link_id, "analysis": rec.analysis_id,
            "offset": rec.offset, "gaps": rec.gaps, "frames_received": rec.frames_received,
            "frames_analysed": rec.frames_analysed, "frames_reliable": rec.frames_reliable,
            "frames_stored": frames_stored if rec.source == Recording.Source.REMOTE else None,
            "model_version": rec.model_version, "started_at": rec.started_at, "ended_at": rec.ended_at}
