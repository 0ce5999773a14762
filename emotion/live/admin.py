from django.contrib import admin
from django.utils.html import format_html_join

from emotion.ml import EMOTIONS

from .models import LiveSession


@admin.register(LiveSession)
class LiveSessionAdmin(admin.ModelAdmin):
    """Sessions are records of what happened: readable and deletable, never edited or added by hand."""

    list_display = ("id", "started_at", "user", "duration", "frames_analysed", "avg_fps", "avg_latency_ms",
                    "dominant_emotion", "model_version")
    list_filter = ("started_at", ("user", admin.RelatedOnlyFieldListFilter), ("user", admin.EmptyFieldListFilter))
    date_hierarchy = "started_at"
    search_fields = ("user__username", "model_version")
    list_select_related = ("user",)
    exclude = ("timeline", "emotion_share")
    readonly_fields = ("user", "started_at", "ended_at", "duration", "frames_received", "frames_analysed",
                       "frames_with_faces", "avg_fps", "avg_latency_ms", "client_rtt_ms", "client_dropped",
                       "share_table", "timeline_points", "timeline_step", "model_version")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # The timeline chart (change_form.html) needs the label order of the stored probabilities.
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), "emotions": list(EMOTIONS)})

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        # the list page does not show the timeline; a long session's is large
        return qs.defer("timeline") if request.resolver_match.url_name.endswith("changelist") else qs

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="share of time per emotion")
    def share_table(self, obj):
        return format_html_join(", ", "{}: {} %", obj.share_rows()) or "-"

    @admin.display(description="timeline points")
    def timeline_points(self, obj):
        return len(obj.timeline or [])
