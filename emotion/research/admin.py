"""Admins review every analysis. Per-frame results are counted and exported, never listed inline:
a single video has thousands of them."""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from . import services
from .exports import csv_chunks
from .models import Analysis
from .streaming import stream


@admin.register(Analysis)
class AnalysisAdmin(admin.ModelAdmin):
    list_display = ["id", "__str__", "owner", "kind", "status", "progress_pct", "result_count", "face_count",
                    "created_at", "timeline"]
    list_filter = ["status", "kind", "owner", "created_at"]
    search_fields = ["title", "original_name", "notes", "owner__username", "error"]
    list_select_related = ["owner"]
    date_hierarchy = "created_at"
    actions = ["rerun_selected", "export_csv"]
    readonly_fields = ["kind", "media_format", "file", "original_name", "size_bytes", "width", "height", "fps",
                       "frame_count", "duration", "status", "progress", "error", "notice", "model_version",
                       "summary_pretty", "result_count", "face_count", "annotated", "run_id", "attempts",
                       "created_at", "started_at", "finished_at", "timeline"]
    fieldsets = [
        (None, {"fields": ["owner", "title", "notes", "timeline"]}),
        ("Media", {"fields": ["kind", "media_format", "original_name", "file", "size_bytes", "width", "height",
                              "fps", "frame_count", "duration", "frame_step"]}),
        ("Analysis", {"fields": ["status", "progress", "error", "notice", "model_version", "result_count",
                                 "face_count", "summary_pretty", "annotated", "run_id", "attempts",
                                 "created_at", "started_at", "finished_at"]}),
    ]

    def has_add_permission(self, request):
        return False     # uploads go through the page or the API, which check the file

    @admin.display(description="progress")
    def progress_pct(self, obj):
        return f"{obj.progress:.0%}"

    @admin.display(description="timeline")
    def timeline(self, obj):
        if obj.pk is None:
            return "-"
        return format_html('<a href="{}">open</a>', reverse("research:detail", args=[obj.pk]))

    @admin.display(description="summary")
    def summary_pretty(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.summary, indent=1))

    def get_deleted_objects(self, objs, request):
        """The confirmation page names each analysis with its result count instead of listing every
        per-frame row (the admin's default), which for a long video is a page of 100,000 lines."""
        objs = list(objs)
        deleted = [f"{o} ({o.result_count} per-frame results, its files)" for o in objs]
        perms_needed = set() if self.has_delete_permission(request) else {"analysis"}
        return deleted, {"analyses": len(objs)}, perms_needed, []

    def delete_model(self, request, obj):
        services.delete_analysis(obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            services.delete_analysis(obj)

    @admin.action(description="Re-run the selected analyses with the current model")
    def rerun_selected(self, request, queryset):
        try:
            done = [services.rerun(a) for a in queryset if a.finished]
        except services.QueueUnavailable as exc:
            return self.message_user(request, str(exc), messages.ERROR)
        skipped = queryset.count() - len(done)
        self.message_user(request, f"{len(done)} queued again" + (f"; {skipped} still running, left alone" if skipped else ""),
                          messages.SUCCESS if done else messages.WARNING)

    @admin.action(description="Export the selected analyses' results as one CSV")
    def export_csv(self, request, queryset):
        return stream(request, csv_chunks(list(queryset.order_by("pk")), with_analysis_column=True),
                      "text/csv; charset=utf-8", "analyses.csv")
