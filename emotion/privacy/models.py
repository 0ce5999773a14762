"""What the retention purge took from an analysis, so its pages can say so instead of a broken link.

Kept here rather than as columns of Analysis: the research app's schema stays as it is, and the row
goes with the analysis (CASCADE). An analysis whose file was purged has an empty ``file`` (or
``annotated``) and one of these rows saying when and after how many days.
"""

from django.db import models


class PurgedMedia(models.Model):
    analysis = models.OneToOneField("research.Analysis", on_delete=models.CASCADE, related_name="purged_media")
    original_purged_at = models.DateTimeField(null=True, blank=True)
    original_days = models.PositiveIntegerField(null=True, blank=True, help_text="the retention period applied")
    annotated_purged_at = models.DateTimeField(null=True, blank=True)
    annotated_days = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "purged media"

    def __str__(self):
        return f"purged media of analysis {self.analysis_id}"

    @property
    def original_note(self) -> str:
        if not self.original_purged_at:
            return ""
        return (f"Original file deleted after {self.original_days} days "
                f"(on {self.original_purged_at:%Y-%m-%d}, retention policy); the results are kept.")

    @property
    def annotated_note(self) -> str:
        if not self.annotated_purged_at:
            return ""
        return (f"Annotated media deleted after {self.annotated_days} days "
                f"(on {self.annotated_purged_at:%Y-%m-%d}, retention policy).")
