from django.conf import settings
from django.db import models

from emotion.ml import EMOTIONS


class LiveSession(models.Model):
    """One webcam session whose visitor agreed to have it stored: statistics only, never frames."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="live_sessions", help_text="Empty for a visitor who was not signed in.")
    started_at = models.DateTimeField(db_index=True)
    ended_at = models.DateTimeField(null=True, blank=True, help_text="Empty while the session runs.")
    frames_received = models.PositiveIntegerField(default=0)
    frames_analysed = models.PositiveIntegerField(default=0)
    frames_with_faces = models.PositiveIntegerField(default=0)
    frames_reliable = models.PositiveIntegerField(default=0, help_text="Frames whose followed face is reliable.")
    avg_fps = models.FloatField("average analysed frames/s", null=True, blank=True)
    avg_latency_ms = models.FloatField("average server latency (ms)", null=True, blank=True,
                                       help_text="From a frame's arrival to its reply, queueing included.")
    client_rtt_ms = models.FloatField("average round trip seen by the browser (ms)", null=True, blank=True)
    client_dropped = models.PositiveIntegerField("frames the browser dropped", null=True, blank=True)
    emotion_share = models.JSONField(default=dict, blank=True,
                                     help_text="Share of the time with a reliable face spent in each shown emotion.")
    # Points also carry "d", the label shown, and "p" is null where the faces were lost (a gap in the
    # chart): see recorder.py. The help text stays as it was to need no migration.
    timeline = models.JSONField(default=list, blank=True,
                                help_text='[{"t": seconds from start, "p": [7 probabilities], "r": 1 if reliable}], '
                                          'down-sampled.')
    timeline_step = models.FloatField(default=0.5, help_text="Smallest gap between two timeline points (s).")
    model_version = models.CharField(max_length=100)
    # SHA-256 of the private link's key, shown once to the visitor who stored the session (the key
    # itself is never stored): it lets an anonymous visitor view and delete their own session.
    access_key_hash = models.CharField(max_length=64, blank=True, db_index=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self):
        return f"Live session {self.pk} ({self.started_at:%Y-%m-%d %H:%M})"

    @property
    def duration(self):
        return (self.ended_at - self.started_at) if self.ended_at else None

    @property
    def dominant_emotion(self) -> str:
        share = self.emotion_share or {}
        return max(share, key=share.get) if any(share.values()) else ""

    @property
    def face_share(self):
        """Share of the analysed frames in which a face was seen (None before any frame)."""
        return self.frames_with_faces / self.frames_analysed if self.frames_analysed else None

    @property
    def face_percent(self):
        share = self.face_share
        return None if share is None else round(100 * share, 1)

    @property
    def face_points(self) -> int:
        return len(self.timeline or ()) - self.timeline_gaps

    @property
    def timeline_gaps(self) -> int:
        """Points where the faces were lost (``"p": null``): the chart breaks its lines there."""
        return sum(1 for p in self.timeline or () if p.get("p") is None)

    def share_rows(self):
        """(emotion, percent) in the model's label order, for templates."""
        share = self.emotion_share or {}
        return [(e, round(100 * share.get(e, 0.0), 1)) for e in EMOTIONS]
