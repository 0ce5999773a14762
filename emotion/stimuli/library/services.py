"""Stimuli in and out of a study: checking and storing the media, changing what the researcher chose
(title, consent text, an image's display time), deleting. Who may do so is decided by the callers
(access.py). The media is checked exactly as an analysis upload is (research/analyses/validation.py: content
decides the format, sizes and a video's duration are probed in a process of its own)."""

from __future__ import annotations

import math
from pathlib import PurePosixPath

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from emotion.research.analyses.shares import count_uploads, user_probe
from emotion.research.analyses.validation import inspect_upload
from emotion.research.models import TITLE_LENGTH, Study
from emotion.web.badtext import bad_character
from emotion.web.refusals import Refused

from ..models import IMAGE_SECONDS_DEFAULT, Stimulus


def display_seconds(raw) -> float:
    """How long an image stimulus is shown: a number of seconds above 0 and at most the longest video
    the site takes. Empty: the default. Refused (field ``duration``) otherwise."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return IMAGE_SECONDS_DEFAULT
    try:
        value = float(str(raw).strip())
    except ValueError:
        raise Refused(f"The display time “{str(raw)[:40]}” is not a number of seconds.", "duration") from None
    limit = settings.FER_MAX_VIDEO_SECONDS
    if not math.isfinite(value) or not 0 < value <= limit:
        raise Refused(f"An image is shown for more than 0 and at most {limit:g} seconds.", "duration")
    return round(value, 3)


def _text(value, field: str, limit: int = None) -> str:
    value = (value or "").strip()
    if limit and len(value) > limit:
        raise Refused(f"The {field} is longer than {limit} characters.", field)
    what = bad_character(value)
    if what:
        raise Refused(f"The {field} contains {what}; remove it and send again.", field)
    return value


def create_stimulus(user, study: Study, upload: UploadedFile, title: str = "", consent_text: str = "",
                    image_seconds=None) -> Stimulus:
    """Check the upload (UploadRefused says why not), store it under a generated name, keep its facts.
    The typed fields are checked first (Refused), so a bad one costs no probing. Busy when the user's
    share of uploads or probes is used up, as for analyses (nothing is stored)."""
    title = _text(title, "title", TITLE_LENGTH) or PurePosixPath(upload.name or "stimulus").stem[:TITLE_LENGTH]
    consent_text = _text(consent_text, "consent_text")
    seconds = display_seconds(image_seconds)
    count_uploads(user, 1)
    with user_probe(user):
        facts = inspect_upload(upload)
    stimulus = Stimulus(study=study, title=title, consent_text=consent_text, kind=facts.kind, created_by=user,
                        media_format=facts.media_format, original_name=(upload.name or "stimulus")[-255:],
                        size_bytes=upload.size, width=facts.width, height=facts.height,
                        duration=facts.duration if facts.kind == Stimulus.Kind.VIDEO else seconds,
                        video_offset=facts.offset)
    stimulus.file.save(f"stimulus{facts.extension}", upload, save=False)
    try:
        stimulus.save()
    except BaseException:               # a failed insert must not leave the stored file behind
        default_storage.delete(stimulus.file.name)
        raise
    return stimulus


EDITABLE = ("title", "consent_text", "duration")


def update_stimulus(stimulus: Stimulus, **changes) -> Stimulus:
    """Change some of EDITABLE; a video's duration is its own (probed), an image's is chosen, and no
    marker may end after it. Everything is checked before anything is set."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise Refused(f"These cannot be changed: {', '.join(sorted(unknown))}.")
    new = {}
    if "title" in changes:
        new["title"] = _text(changes["title"], "title", TITLE_LENGTH)
        if not new["title"]:
            raise Refused("Give the stimulus a title.", "title")
    if "consent_text" in changes:
        new["consent_text"] = _text(changes["consent_text"], "consent_text")
    if "duration" in changes and changes["duration"] is not None:
        if stimulus.kind == Stimulus.Kind.VIDEO:
            if float(changes["duration"]) != stimulus.duration:
                raise Refused("A video's duration is its own, read from the file.", "duration")
        else:
            new["duration"] = display_seconds(changes["duration"])
            late = stimulus.markers.filter(end__gt=new["duration"]).order_by("-end").first()
            if late:
                raise Refused(f"The marker “{late.name}” ends at {late.end:g} s, after {new['duration']:g} s: "
                              "shorten or delete it first.", "duration")
    for field, value in new.items():
        setattr(stimulus, field, value)
    if new:
        stimulus.save(update_fields=list(new))
    return stimulus


def delete_stimulus(stimulus: Stimulus) -> None:
    """The row goes with its markers, links and recordings; its file after the commit (forget_file)."""
    stimulus.delete()


def forget_file(sender, instance: Stimulus, **kwargs) -> None:
    """A deleted stimulus' file goes once the deletion is committed (a rollback keeps it), whichever way
    the row went: by itself, with its study, with its owner's account. Connected in apps.py."""
    name = instance.file.name
    if name:
        transaction.on_commit(lambda: default_storage.delete(name))
