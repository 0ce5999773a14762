"""A study's stimuli, their event markers, the invitation links that send participants to them, and
each participant's reading of a stimulus (a remote session, or an uploaded recording attached with an
offset), kept on the stimulus' time axis.

Never an image of a participant: a remote session keeps one row per analysed frame of the followed
face (probabilities and quality), like a live session's timeline but at full rate.
"""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.db import models
from django.utils import timezone

from emotion.ml import EMOTIONS
from emotion.research.models import TITLE_LENGTH, Analysis, Condition, Participant, Study

MARKER_NAME_LENGTH = 80
IMAGE_SECONDS_DEFAULT = 10.0     # how long an image stimulus is shown, unless the researcher says


def stimulus_upload_name(instance: "Stimulus", filename: str) -> str:
    """A generated name, as for analyses: the researcher's file name is metadata, never a path."""
    ext = PurePosixPath(filename).suffix.lower()
    return timezone.now().strftime(f"stimuli/%Y/%m/{uuid.uuid4().hex}{ext}")


class Stimulus(models.Model):
    class Kind(models.TextChoices):
        IMAGE = "image"
        VIDEO = "video"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="stimuli")
    title = models.CharField(max_length=TITLE_LENGTH)
    kind = models.CharField(max_length=5, choices=Kind.choices)
    file = models.FileField(upload_to=stimulus_upload_name, max_length=255)
    original_name = models.CharField(max_length=255)
    size_bytes = models.BigIntegerField()
    media_format = models.CharField(max_length=10, help_text="decided from the file's content")
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    duration = models.FloatField(help_text="seconds: probed for a video, chosen for an image")
    video_offset = models.FloatField(default=0.0, help_text="seconds a player shows before the first picture (time 0): read once, by the upload's probe")
    consent_text = models.TextField(blank=True, help_text="shown to each participant before the camera starts")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["study", "created_at"]
        verbose_name_plural = "stimuli"

    def __str__(self) -> str:
        return self.title


class EventMarker(models.Model):
    """A named span of the stimulus (a scene, a logo, a punchline), in seconds of stimulus time."""

    stimulus = models.ForeignKey(Stimulus, on_delete=models.CASCADE, related_name="markers")
    name = models.CharField(max_length=MARKER_NAME_LENGTH)
    start = models.FloatField()
    end = models.FloatField()

    class Meta:
        ordering = ["start", "end", "name"]
        constraints = [models.CheckConstraint(condition=models.Q(start__gte=0) & models.Q(end__gte=models.F("start")),
                                              name="marker_span_in_order")]

    def __str__(self) -> str:
        return f"{self.name} ({self.start:g}-{self.end:g} s)"


class StimulusLink(models.Model):
    """An invitation to watch a stimulus: for one participant's code, or open (the page asks for a
    code). Only the SHA-256 of its random key is stored; the key is shown once, when made."""

    stimulus = models.ForeignKey(Stimulus, on_delete=models.CASCADE, related_name="links")
    key_hash = models.CharField(max_length=64, unique=True)
    participant = models.ForeignKey(Participant, null=True, blank=True, on_delete=models.CASCADE,
                                    related_name="stimulus_links", help_text="empty: an open link that asks for a code")
    condition = models.ForeignKey(Condition, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                  help_text="the condition the sessions through this link are stored under")
    expires_at = models.DateTimeField()
    max_uses = models.PositiveIntegerField(default=1)
    uses = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"link to {self.stimulus} for {self.participant or 'any code'}"

    def usable(self, now=None) -> bool:
        return self.uses < self.max_uses and (now or timezone.now()) < self.expires_at


class Recording(models.Model):
    """One participant's reading of one stimulus, on the stimulus' time axis.

    A remote session keeps its frames in ``RecordingFrame``; an uploaded recording points at its
    analysis, whose frame times minus ``offset`` are stimulus times. ``gaps`` are the stretches of
    stimulus time without data (paused, seeked over, tab hidden, connection lost):
    ``[{"start": s, "end": s, "reason": "pause"|"seek"|"hidden"|"connection"}]``.
    """

    class Source(models.TextChoices):
        REMOTE = "remote"
        UPLOAD = "upload"

    class State(models.TextChoices):
        RUNNING = "running"
        DONE = "done"

    stimulus = models.ForeignKey(Stimulus, on_delete=models.CASCADE, related_name="recordings")
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="recordings")
    condition = models.ForeignKey(Condition, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    source = models.CharField(max_length=6, choices=Source.choices)
    state = models.CharField(max_length=7, choices=State.choices, default=State.RUNNING)
    link = models.ForeignKey(StimulusLink, null=True, blank=True, on_delete=models.SET_NULL, related_name="recordings")
    analysis = models.OneToOneField(Analysis, null=True, blank=True, on_delete=models.CASCADE,
                                    related_name="stimulus_recording", help_text="an uploaded recording")
    offset = models.FloatField(default=0.0, help_text="seconds into the recording at which the stimulus starts")
    gaps = models.JSONField(default=list, blank=True)
    frames_received = models.PositiveIntegerField(default=0)
    frames_analysed = models.PositiveIntegerField(default=0)
    frames_reliable = models.PositiveIntegerField(default=0)
    model_version = models.CharField(max_length=80, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["stimulus", "started_at"]

    def __str__(self) -> str:
        return f"{self.participant} watching {self.stimulus} ({self.source})"


class RecordingFrame(models.Model):
    """The followed face in one analysed frame of a remote session, at stimulus time ``time``."""

    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="frames")
    time = models.FloatField(help_text="stimulus time the player reported for this frame (s)")
    angry = models.FloatField()
    disgust = models.FloatField()
    fear = models.FloatField()
    happy = models.FloatField()
    sad = models.FloatField()
    surprise = models.FloatField()
    neutral = models.FloatField()
    top = models.CharField(max_length=10)
    dominant = models.CharField(max_length=10, help_text="the label shown (with hysteresis)")
    confidence = models.FloatField(null=True, blank=True)
    reliable = models.BooleanField(null=True, blank=True)
    face_size = models.PositiveIntegerField(null=True, blank=True)
    sharpness = models.FloatField(null=True, blank=True)
    brightness = models.FloatField(null=True, blank=True)
    noise = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["recording", "time"]
        indexes = [models.Index(fields=["recording", "time"])]

    def probabilities(self) -> list:
        return [getattr(self, e) for e in EMOTIONS]
