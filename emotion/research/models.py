"""An uploaded image or video, its analysis state, and its per-frame, per-face results."""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath
from typing import Optional

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


class Study(models.Model):
    """A set of analyses compared across participants and conditions. Its owner manages members and may
    delete it; members see everything in it, editors may also upload, edit and re-run."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="owned_studies")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "studies"

    def __str__(self) -> str:
        return self.name


class StudyMember(models.Model):
    class Role(models.TextChoices):
        VIEWER = "viewer"
        EDITOR = "editor"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="study_memberships")
    role = models.CharField(max_length=6, choices=Role.choices, default=Role.VIEWER)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["study", "user"], name="one_membership_per_user")]

    def __str__(self) -> str:
        return f"{self.user} in {self.study} ({self.role})"


class Participant(models.Model):
    """A pseudonymous code (never a name): the study's key for one person across analyses."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="participants")
    code = models.CharField(max_length=64)

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["study", "code"], name="one_code_per_study")]

    def __str__(self) -> str:
        return self.code


class Condition(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="conditions")
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["study", "name"], name="one_condition_name_per_study")]

    def __str__(self) -> str:
        return self.name


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
    # A study's analyses go when it is deleted, through services (which removes their files first);
    # PROTECT stops a bare delete from leaving files behind.
    study = models.ForeignKey(Study, null=True, blank=True, on_delete=models.PROTECT, related_name="analyses")
    participant = models.ForeignKey(Participant, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="analyses")
    condition = models.ForeignKey(Condition, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="analyses")
    tags = models.JSONField(default=list, blank=True, help_text="short free-text labels")
    is_baseline = models.BooleanField(default=False, help_text="the participant's neutral baseline clip")
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
    # The frames the timeline page shows, kept by the job (emotion/ml/frame_pack.py: a zip of JPEGs with
    # boxes drawn), so that the web process never decodes an upload; frames_step says which it holds.
    frames = models.FileField(max_length=255, blank=True)
    frames_step = models.PositiveIntegerField(default=0, help_text="the frames kept: every frame whose index is "
                                                                  "a multiple of this; 0 when none are")

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
        constraints = [models.UniqueConstraint(fields=["participant"], condition=models.Q(is_baseline=True),
                                               name="one_baseline_per_participant")]

    def __str__(self) -> str:
        return self.title or self.original_name

    def get_absolute_url(self) -> str:
        return reverse("research:detail", args=[self.pk])

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    def stored_names(self) -> list:
        """The names in storage of every file the analysis holds: what deleting it must remove."""
        return [n for n in (self.file.name, self.annotated.name, self.frames.name) if n]

    @property
    def elapsed(self):
        """Seconds spent analysing (so far, while it runs)."""
        if not self.started_at:
            return None
        end = self.finished_at or timezone.now()
        return max(0.0, (end - self.started_at).total_seconds())


class Role:
    """What a user may do with a study or an analysis, strongest last. Staff act as owners everywhere."""

    VIEWER, EDITOR, OWNER = "viewer", "editor", "owner"
    RANK = {None: 0, VIEWER: 1, EDITOR: 2, OWNER: 3}


def visible_studies(user) -> models.QuerySet:
    """Studies the user owns or is a member of (staff: all)."""
    qs = Study.objects.select_related("owner")
    if not user.is_authenticated:
        return qs.none()
    if user.is_staff:
        return qs
    return qs.filter(models.Q(owner=user) | models.Q(pk__in=StudyMember.objects.filter(user=user).values("study")))


def study_role(user, study: Optional[Study]) -> Optional[str]:
    """owner, editor, viewer or None (not a member, or no study)."""
    if study is None or not user.is_authenticated:
        return None
    if user.is_staff or study.owner_id == user.pk:
        return Role.OWNER
    return StudyMember.objects.filter(study=study, user=user).values_list("role", flat=True).first()


def _studies_with_role(user, least: str) -> models.QuerySet:
    roles = [r for r in (Role.VIEWER, Role.EDITOR) if Role.RANK[r] >= Role.RANK[least]]
    return Study.objects.filter(models.Q(owner=user) | models.Q(
        pk__in=StudyMember.objects.filter(user=user, role__in=roles).values("study"))).values("pk")


def _analyses_for(user, least: str) -> models.QuerySet:
    """The one rule behind the three below. An analysis in no study: its owner and staff, as before studies.
    In a study: what the user's role in the study allows; its uploader keeps seeing it whatever happens."""
    qs = Analysis.objects.select_related("owner", "study", "participant", "condition")
    if not user.is_authenticated:
        return qs.none()
    if user.is_staff:
        return qs
    mine_outside = models.Q(owner=user, study__isnull=True)
    if least == Role.OWNER:
        return qs.filter(mine_outside | models.Q(study__owner=user))
    rule = mine_outside | models.Q(study__in=_studies_with_role(user, least))
    if least == Role.VIEWER:
        rule |= models.Q(owner=user)
    return qs.filter(rule)


def visible_analyses(user) -> models.QuerySet:
    """Who sees an analysis, for pages, API and sockets: its owner, staff and the members of its study."""
    return _analyses_for(user, Role.VIEWER)


def editable_analyses(user) -> models.QuerySet:
    """Who may edit and re-run an analysis: staff; in a study its owner and editors; outside any study the
    analysis' owner."""
    return _analyses_for(user, Role.EDITOR)


def deletable_analyses(user) -> models.QuerySet:
    """Who may delete one: staff; in a study its owner only; outside any study the analysis' owner."""
    return _analyses_for(user, Role.OWNER)


def analysis_role(user, analysis: Analysis) -> Optional[str]:
    """The rule above for one analysis already loaded: owner (may delete), editor (may edit and re-run),
    viewer, or None."""
    if not user.is_authenticated:
        return None
    if user.is_staff:
        return Role.OWNER
    if analysis.study_id is None:
        return Role.OWNER if analysis.owner_id == user.pk else None
    role = study_role(user, analysis.study)
    return role or (Role.VIEWER if analysis.owner_id == user.pk else None)


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
    noise = models.FloatField(null=True, blank=True, help_text="estimated sensor noise, grey levels")
    confidence = models.FloatField(null=True, blank=True, help_text="top probability after temperature scaling")
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


class HandLabels(models.Model):
    """A researcher's own coding of an analysis (the last file uploaded), parsed, with its agreement
    with the engine's labels."""

    analysis = models.OneToOneField(Analysis, on_delete=models.CASCADE, related_name="hand_labels")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    original_name = models.CharField(max_length=255, blank=True)
    uploaded_at = models.DateTimeField(auto_now=True)
    segments = models.JSONField(default=list, help_text='parsed rows: {"start", "end"} or {"frame"}, "label", '
                                                       'optional "face_id"')
    agreement = models.JSONField(default=dict, blank=True,
                                 help_text="n, accuracy, macro_f1, kappa, confusion (rows: hand labels)")

    def __str__(self) -> str:
        return f"hand labels for {self.analysis}"
