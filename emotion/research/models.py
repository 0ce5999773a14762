"""An uploaded image or video, its analysis state, and its per-frame, per-face results."""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from emotion.ml import EMOTIONS


def upload_name(instance: "Analysis", filename: str) -> str:
    """A generated name: the user's file name is kept as metadata only, never as a path. The
    extension was chosen by decoding the content (see validation.py), not taken from the name."""
    ext = PurePosixPath(filename).suffix.lower()
    return timezone.now().strftime(f"uploads/%Y/%m/{uuid.uuid4().hex}{ext}")


class Analysis(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    class Kind(models.TextChoices):
        IMAGE = "image"
        VIDEO = "video"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="analyses")
    title = models.CharField(max_length=200, blank=True)
    notes = models.TextField(blank=True)
    kind = models.CharField(max_length=5, choices=Kind.choices)
    file = models.FileField(upload_to=upload_name, max_length=255)
    original_name = models.CharField(max_length=255)
    size_bytes = models.BigIntegerField()
    media_format = models.CharField(max_length=10, help_text="decided from the file's content")
    frame_step = models.PositiveIntegerField(default=1, help_text="analyse every N-th frame of a video")

    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    fps = models.FloatField(null=True, blank=True)
    frame_count = models.PositiveIntegerField(null=True, blank=True)
    duration = models.FloatField(null=True, blank=True, help_text="seconds")

    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress = models.FloatField(default=0.0)
    error = models.TextField(blank=True, help_text="why the analysis failed, in words a user can act on")
    notice = models.CharField(max_length=300, blank=True, help_text="e.g. no faces found")
    model_version = models.CharField(max_length=80, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    result_count = models.PositiveIntegerField(default=0)
    face_count = models.PositiveIntegerField(default=0)
    annotated = models.FileField(max_length=255, blank=True)

    # Every (re-)run gets a new token; a delivery of an older run's task finds it changed and stops.
    run_id = models.UUIDField(default=uuid.uuid4)
    attempts = models.PositiveIntegerField(default=0, help_text="deliveries of the current run to a worker")

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    queued_at = models.DateTimeField(default=timezone.now, help_text="when the current run was queued")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "analyses"

    def __str__(self) -> str:
        return self.title or self.original_name

    def get_absolute_url(self) -> str:
        return reverse("research:detail", args=[self.pk])

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def elapsed(self):
        """Seconds spent analysing (so far, while it runs)."""
        if not self.started_at:
            return None
        end = self.finished_at or timezone.now()
        return max(0.0, (end - self.started_at).total_seconds())


def visible_analyses(user) -> models.QuerySet:
    """The one rule for who sees an analysis, for pages, API and sockets: its owner, and staff."""
    qs = Analysis.objects.select_related("owner")
    if not user.is_authenticated:
        return qs.none()
    return qs if user.is_staff else qs.filter(owner=user)


class FrameResult(models.Model):
    """One face in one frame. (analysis, frame, face_id) is unique: a re-delivered job can replace
    results, never duplicate them."""

    analysis = models.ForeignKey(Analysis, on_delete=models.CASCADE, related_name="results")
    frame = models.PositiveIntegerField()
    time = models.FloatField()
    face_id = models.PositiveIntegerField()
    x = models.IntegerField()
    y = models.IntegerField()
    w = models.IntegerField()
    h = models.IntegerField()
    angry = models.FloatField()
    disgust = models.FloatField()
    fear = models.FloatField()
    happy = models.FloatField()
    sad = models.FloatField()
    surprise = models.FloatField()
    neutral = models.FloatField()
    dominant = models.CharField(max_length=10, help_text="the label shown (with hysteresis), see results.py")
    # How trustworthy the result is (emotion/ml/results.py, quality.py); empty on results stored before
    # the engine measured it.
    source = models.CharField(max_length=8, blank=True, help_text="detected or tracked")
    face_size = models.PositiveIntegerField(null=True, blank=True, help_text="pixels")
    sharpness = models.FloatField(null=True, blank=True)
    brightness = models.FloatField(null=True, blank=True)
    reliable = models.BooleanField(null=True, blank=True)
    model_version = models.CharField(max_length=80)

    class Meta:
        ordering = ["frame", "face_id"]
        constraints = [models.UniqueConstraint(fields=["analysis", "frame", "face_id"], name="one_result_per_face_frame")]

    def __str__(self) -> str:
        return f"frame {self.frame} face {self.face_id}: {self.dominant}"

    @property
    def probs(self) -> list:
        return [getattr(self, e) for e in EMOTIONS]
