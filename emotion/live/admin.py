from django.contrib import admin
from django.utils.html import format_html_join

from .models import LiveSession
from .recorder import unreliable_points


@admin.register(LiveSession)
class LiveSessionAdmin(admin.ModelAdmin):
    """Sessions are records of what happened: readable and deletable, never edited or added by hand."""

    list_display = ("id", "started_at", "user", "duration", "frames_analysed", "face_frames", "avg_fps",
                    "avg_latency_ms", "dominant_emotion", "model_version")
    list_filter = ("started_at", ("user", admin.RelatedOnlyFieldListFilter), ("user", admin.EmptyFieldListFilter))
    date_hierarchy = "started_at"
    search_fields = ("user__username", "model_version")
    list_select_related = ("user",)
    exclude = ("timeline", "emotion_share")
    readonly_fields = ("user", "started_at", "ended_at", "duration", "frames_received", "frames_analysed",
                       "frames_with_faces", "face_frames", "frames_reliable", "avg_fps", "avg_latency_ms", "client_rtt_ms", "client_dropped",
                       "share_table", "timeline_points", "timeline_step", "model_version")

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        # the list page does not show the timeline; a long session's is large
        return qs.defer("timeline") if request.resolver_match.url_name.endswith("changelist") else qs

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="share of the time with a reliable face, per emotion")
    def share_table(self, obj):
        return format_html_join(", ", "{}: {} %", obj.share_rows()) or "-"

    @admin.display(description="frames with a face", ordering="frames_with_faces")
    def face_frames(self, obj):
        percent = obj.face_percent
        return "-" if percent is None else f"{obj.frames_with_faces} ({percent} %)"

    @admin.display(description="timeline points")
    def timeline_points(self, obj):
        points, unreliable = obj.face_points, unreliable_points(obj.timeline)
        text = f"{points} ({unreliable} unreliable, drawn grey)" if unreliable else str(points)
        gaps = obj.timeline_gaps
        return text + (f"; the faces were lost {gaps} time{'s' if gaps != 1 else ''} (breaks in the lines)" if gaps else "")
