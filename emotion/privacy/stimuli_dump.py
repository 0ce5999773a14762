"""The stimulus studies' part of "Download all my data": for the studies the user owns, each stimulus
with its markers, its invitation links and its recordings (stimuli.json), and each recording's frames
on the stimulus' time axis (recordings/<id>-<participant>.csv, the recording's own CSV download).

A link's key is never in it: only its hash is stored, and that is a credential's trace, not data. The
stimulus files are not copied in, as originals are not: each stimulus' page plays and serves its file.
"""

from __future__ import annotations

from typing import Iterator, List, Tuple
from zipfile import ZipFile

from django.utils.text import slugify

from emotion.stimuli.sessions import recording_exports, recordings
from emotion.stimuli.sessions.api import link_dict
from emotion.stimuli.models import Recording, Stimulus


def owned_stimuli(user):
    return Stimulus.objects.filter(study__owner=user).select_related("study", "created_by").order_by("pk")


def owned_recordings(user):
    return Recording.objects.filter(stimulus__study__owner=user)


def csv_name(rec: Recording) -> str:
    return f"recordings/{rec.pk}-{slugify(rec.participant.code)[:60] or 'participant'}.csv"


def stimulus_info(s: Stimulus, recs: List[Recording]) -> dict:
    return {"id": s.pk, "study": s.study.name, "study_id": s.study_id, "title": s.title, "kind": s.kind,
            "media_format": s.media_format, "original_name": s.original_name, "size_bytes": s.size_bytes,
            "width": s.width, "height": s.height, "duration": s.duration, "consent_text": s.consent_text,
            "created_by": s.created_by.get_username() if s.created_by else None, "created_at": s.created_at,
            "file_stored": bool(s.file.name),
            "markers": [{"name": m.name, "start": m.start, "end": m.end} for m in s.markers.all()],
            "links": [link_dict(link) for link in s.links.select_related("participant", "condition")],
            "recordings": [{**recordings.summary(r), "frames_file": csv_name(r)} for r in recs]}


def stimuli_with_recordings(user) -> Iterator[Tuple[Stimulus, List[Recording]]]:
    for s in owned_stimuli(user):
        yield s, list(recordings.listed(s).order_by("started_at", "pk"))


def write(user, zf: ZipFile, to_json) -> None:
    """stimuli.json, then one CSV per recording (also an empty one: its header says the columns)."""
    listed = list(stimuli_with_recordings(user))
    zf.writestr("stimuli.json", to_json([stimulus_info(s, recs) for s, recs in listed]))
    for _, recs in listed:
        for rec in recs:
            with zf.open(csv_name(rec), "w") as fh:
                for chunk in recording_exports.csv_chunks(rec):
                    fh.write(chunk.encode())
