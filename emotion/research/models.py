"""An uploaded image or video, its analysis state, and its per-frame, per-face results."""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from emotion.ml import EMOTIONS

# The lengths of what people type, stated once: the columns below, the API's serializers, the services'
# checks and the forms' maxlength (handed to templates as FIELD_LIMITS) all read these.
TITLE_LENGTH = 200          # an analysis' title, a study's name
CODE_LENGTH = 64            # a participant's code
CONDITION_LENGTH = 100      # a condition's name
FIELD_LIMITS = {"title": TITLE_LENGTH, "code": CODE_LENGTH, "condition": CONDITION_LENGTH}


def upload_name(instance: "Analysis", filename: str) -> str:
    """A generated name: the user's file name is kept as metadata only, never as a path. The
    extension was chosen by decoding the content (see validation.py), not taken from the name."""
    ext = PurePosixPath(filename).suffix.lower()
    return timezone.now().strftime(f"uploads/%Y/%m/{uuid.uuid4().hex}{ext}")


class Study(models.Model):
    """A set of analyses compared across participants and conditions. Its owner manages members and may
    delete it; members see everything in it, editors may also upload, edit and re-run."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="owned_studies")
    name = models.CharField(max_length=TITLE_LENGTH)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "studies"

    def __str__(self) -> str:
        return self.name


class StudyMember(models.Model):
    """A member of a study, or someone invited to be one: an invitation grants nothing until the invited
    user accepts it (on their studies page), so no one is put into a study without agreeing."""

    class Role(models.TextChoices):
        VIEWER = "viewer"
        EDITOR = "editor"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="study_memberships")
    role = models.CharField(max_length=6, choices=Role.choices, default=Role.VIEWER)
    accepted = models.BooleanField(default=False, help_text="false: invited, not yet a member")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["study", "user"], name="one_membership_per_user")]

    def __str__(self) -> str:
        return f"{self.user} in {self.study} ({self.role}{'' if self.accepted else ', invited'})"


class Participant(models.Model):
    """A pseudonymous code (never a name): the study's key for one person across analyses."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="participants")
    code = models.CharField(max_length=CODE_LENGTH)

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["study", "code"], name="one_code_per_study")]

    def __str__(self) -> str:
        return self.code


class Condition(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="conditions")
    name = models.CharField(max_length=CONDITION_LENGTH)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["study", "name"], name="one_condition_name_per_study")]

    def __str__(self) -> str:
        return self.name


class Variable(models.Model):
    """Something known about each participant (age group, handedness, a questionnaire score) that the
    statistics can be split or filtered by. Its kind is fixed at creation: values are checked against
    it (variables.py), and a number that became a category would re-read every value stored."""

    class Kind(models.TextChoices):
        CATEGORY = "category"
        NUMBER = "number"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="variables")
    name = models.CharField(max_length=40, help_text="a column name for R and pandas: a letter, then letters, "
                                                     "digits or _")
    kind = models.CharField(max_length=8, choices=Kind.choices)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["study", "name"], name="one_variable_name_per_study")]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class ParticipantValue(models.Model):
    """One participant's value of one variable, as text (a number variable's is a finite decimal number,
    checked by variables.py before it is stored); no row: the value is unknown."""

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="values")
    variable = models.ForeignKey(Variable, on_delete=models.CASCADE, related_name="values")
    value = models.CharField(max_length=100)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["participant", "variable"], name="one_value_per_variable")]

    def __str__(self) -> str:
        return f"{self.participant} {self.variable.name}={self.value}"


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
    title = models.CharField(max_length=TITLE_LENGTH, blank=True)
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
    video_offset = models.FloatField(default=0.0, help_text="seconds a player shows before the first picture (time 0): read once, by the upload's probe")

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
    """What a member may do with a study or an analysis, strongest last. Who has which, and what
    Django's permissions add over everyone's data: emotion/access.py."""

    VIEWER, EDITOR, OWNER = "viewer", "editor", "owner"
    RANK = {None: 0, VIEWER: 1, EDITOR: 2, OWNER: 3}


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
