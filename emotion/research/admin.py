"""Admins review every analysis and study. Per-frame results are counted and exported, never listed
inline: a single video has thousands of them. Files are linked to the site's own download pages."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from emotion.ml import EMOTIONS
from emotion.web.streaming import stream

from .analyses import services
from .exports.analysis import csv_chunks
from .models import Analysis, Condition, Participant, ParticipantValue, Study, StudyMember, Variable
from .studies import services as study_services
from .studies.variables_admin import ParticipantValueAdmin, VariableAdmin


def seconds_text(value) -> str:
    """26.6 s, 1 min 5 s, 1 h 2 min: a duration as a person reads it."""
    if value is None:
        return "-"
    value = float(value)
    if value < 60:
        return f"{value:.1f} s"
    minutes, secs = divmod(round(value), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


class MemberInline(admin.TabularInline):
    model = StudyMember
    extra = 1
    autocomplete_fields = ["user"]


class ParticipantInline(admin.TabularInline):
    model = Participant
    extra = 0


class ConditionInline(admin.TabularInline):
    model = Condition
    extra = 0


@admin.register(Study)
class StudyAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "owner", "created_at", "analysis_count", "page"]
    search_fields = ["name", "description", "owner__username"]
    list_select_related = ["owner"]
    inlines = [MemberInline, ParticipantInline, ConditionInline]

    @admin.display(description="analyses")
    def analysis_count(self, obj):
        return obj.analyses.count()

    @admin.display(description="page")
    def page(self, obj):
        return format_html('<a href="{}">open</a>', reverse("research:study", args=[obj.pk])) if obj.pk else "-"

    def get_deleted_objects(self, objs, request):
        objs = list(objs)
        deleted = [f"{s} ({s.analyses.count()} analyses with their files and results)" for s in objs]
        perms_needed = set() if self.has_delete_permission(request) else {"study"}
        return deleted, {"studies": len(objs)}, perms_needed, []

    def delete_model(self, request, obj):
        study_services.delete_study(obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            study_services.delete_study(obj)


class TagsField(forms.CharField):
    """Tags as the site's edit form writes them ("talk, pilot"), not as the JSON list they are stored as."""

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        try:
            return services.clean_tags(super().to_python(value))
        except services.Refused as exc:
            raise forms.ValidationError(str(exc)) from None


class AnalysisForm(forms.ModelForm):
    tags = TagsField(required=False, help_text="comma-separated short labels")

    def _get_validation_exclusions(self):
        # One baseline per participant is kept by save_model, which unmarks the old one first; checked
        # here, the constraint would refuse the very change that moves it.
        return {*super()._get_validation_exclusions(), "is_baseline"}


@admin.register(Participant)
class ParticipantAdmin(admin.ModelAdmin):
    list_display = ["code", "study"]
    list_filter = ["study"]
    search_fields = ["code", "study__name"]


@admin.register(Condition)
class ConditionAdmin(admin.ModelAdmin):
    list_display = ["name", "study"]
    list_filter = ["study"]
    search_fields = ["name", "study__name"]


@admin.register(Analysis)
class AnalysisAdmin(admin.ModelAdmin):
    list_display = ["id", "__str__", "owner", "study", "participant", "condition", "kind", "status", "progress_pct",
                    "result_count", "face_count", "created_at", "timeline"]
    list_filter = ["status", "kind", "study", "owner", "created_at"]
    search_fields = ["title", "original_name", "notes", "owner__username", "error", "study__name",
                     "participant__code", "condition__name"]
    list_select_related = ["owner", "study", "participant", "condition"]
    date_hierarchy = "created_at"
    actions = ["rerun_selected", "export_csv"]
    readonly_fields = ["kind", "media_format", "file_link", "original_name", "size_bytes", "width", "height", "fps",
                       "frame_count", "duration_text", "status", "progress", "error", "notice", "model_version",
                       "summary_pretty", "result_count", "face_count", "annotated_link", "run_id", "attempts",
                       "created_at", "started_at", "finished_at", "took", "timeline"]
    fieldsets = [
        (None, {"fields": ["owner", "title", "notes", "timeline"]}),
        ("Study", {"fields": ["study", "participant", "condition", "tags", "is_baseline"]}),
        ("Media", {"fields": ["kind", "media_format", "original_name", "file_link", "size_bytes", "width", "height",
                              "fps", "frame_count", "duration_text", "frame_step"]}),
        ("Analysis", {"fields": ["status", "progress", "error", "notice", "model_version", "result_count",
                                 "face_count", "summary_pretty", "annotated_link", "run_id", "attempts",
                                 "created_at", "started_at", "finished_at", "took"]}),
    ]
    autocomplete_fields = ["owner"]
    form = AnalysisForm

    def get_readonly_fields(self, request, obj=None):
        # the frame step says how the results were made: once it has run, change it by re-running a new upload
        ran = obj is not None and (obj.started_at or obj.finished or obj.result_count)
        return [*self.readonly_fields, "frame_step"] if ran else self.readonly_fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # the participant and condition offered are those of the analysis' own study
        obj_id = request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
        study_id = Analysis.objects.filter(pk=obj_id).values_list("study_id", flat=True).first() if obj_id else None
        if db_field.name in ("participant", "condition"):
            model = Participant if db_field.name == "participant" else Condition
            kwargs["queryset"] = model.objects.filter(study_id=study_id).select_related("study")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        # one baseline per participant (a database constraint): the new one unmarks the old
        if obj.is_baseline and obj.participant_id:
            Analysis.objects.filter(participant_id=obj.participant_id, is_baseline=True).exclude(pk=obj.pk).update(
                is_baseline=False)
        elif obj.is_baseline:
            obj.is_baseline = False
        super().save_model(request, obj, form, change)

    @admin.display(description="file")
    def file_link(self, obj):
        if not obj.file:
            return "-"
        return format_html('<a href="{}">{}</a> ({})', reverse("research:original", args=[obj.pk]), obj.original_name,
                           obj.media_format.upper())

    @admin.display(description="annotated")
    def annotated_link(self, obj):
        if not obj.annotated:
            return "-"
        return format_html('<a href="{}">download the annotated {}</a>', reverse("research:annotated", args=[obj.pk]),
                           obj.kind)

    @admin.display(description="duration")
    def duration_text(self, obj):
        return seconds_text(obj.duration)

    @admin.display(description="analysis took")
    def took(self, obj):
        return seconds_text(obj.elapsed)

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
        """The summary as a small table: faces, results (and how many were unreliable), share of time."""
        s = obj.summary or {}
        if not s:
            return "-"
        facts = [("faces", s.get("faces")), ("results", s.get("results"))]
        if s.get("results_left_out"):
            facts.append(("unreliable results (left out of the shares)", s["results_left_out"]))
        rows = format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", ((k, v) for k, v in facts if v is not None))
        share = s.get("share_of_time") or {}
        shares = format_html_join("", "<tr><th>{}</th><td>{}</td></tr>",
                                  ((e, f"{float(share[e]):.1%}") for e in EMOTIONS if e in share))
        head = mark_safe('<tr><th colspan="2">share of time</th></tr>') if shares else ""
        return format_html('<table class="summary">{}{}{}</table>', rows, head, shares)

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

    @admin.action(description="Re-run the selected analyses with the current model", permissions=["change"])
    def rerun_selected(self, request, queryset):
        try:
            # a purged original has nothing to analyse: left alone, counted as skipped
            done = [services.rerun(a, bounded=False) for a in queryset if a.finished and a.file]
        except services.QueueUnavailable as exc:
            return self.message_user(request, str(exc), messages.ERROR)
        skipped = queryset.count() - len(done)
        self.message_user(request, f"{len(done)} queued again" + (f"; {skipped} still running or without their original, left alone" if skipped else ""),
                          messages.SUCCESS if done else messages.WARNING)

    @admin.action(description="Export the selected analyses' results as one CSV", permissions=["view"])
    def export_csv(self, request, queryset):
        return stream(request, csv_chunks(list(queryset.order_by("pk")), with_analysis_column=True),
                      "text/csv; charset=utf-8", "analyses.csv")



# participant variables and their values: variables_admin.py, with the same rules as the study page
admin.site.register(Variable, VariableAdmin)
admin.site.register(ParticipantValue, ParticipantValueAdmin)
