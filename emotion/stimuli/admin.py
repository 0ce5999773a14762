"""Admins review every study's stimuli with their markers. A stimulus is added on its study's page or
through the API, which check its file; here its title, consent text and markers may be changed, its
media opens on its page, and deleting it takes its file along (services.forget_file)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from emotion.research.admin import seconds_text

from .library import markers
from .models import EventMarker, Stimulus


class MarkerForm(forms.ModelForm):
    """The markers' one rule (markers.checked): 0 <= start <= end <= the stimulus' duration."""

    def clean(self):
        data = super().clean()
        stimulus = self.instance.stimulus if self.instance.stimulus_id else None    # the inline sets it
        if stimulus is not None and not self.errors:
            try:
                data.update(markers.checked(stimulus, data.get("name"), data.get("start"), data.get("end")))
            except markers.MarkerRefused as exc:
                raise forms.ValidationError({exc.field or forms.models.NON_FIELD_ERRORS: str(exc)}) from None
        return data


class MarkerInline(admin.TabularInline):
    model = EventMarker
    form = MarkerForm
    extra = 0


@admin.register(Stimulus)
class StimulusAdmin(admin.ModelAdmin):
    list_display = ["id", "title", "study", "kind", "duration_text", "marker_count", "created_by", "created_at", "page"]
    list_filter = ["kind", "study", "created_at"]
    search_fields = ["title", "original_name", "consent_text", "study__name", "created_by__username"]
    list_select_related = ["study", "created_by"]
    date_hierarchy = "created_at"
    readonly_fields = ["study", "kind", "media_format", "original_name", "size_bytes", "width", "height",
                       "duration_text", "created_by", "created_at", "page"]
    fieldsets = [
        (None, {"fields": ["study", "title", "consent_text", "page"]}),
        ("Media", {"fields": ["kind", "media_format", "original_name", "size_bytes", "width", "height", "duration_text",
                              "created_by", "created_at"]}),
    ]
    inlines = [MarkerInline]

    def has_add_permission(self, request):
        return False     # stimuli come through the study page or the API, which check the file

    @admin.display(description="duration")
    def duration_text(self, obj):
        return seconds_text(obj.duration) + (" shown" if obj.kind == Stimulus.Kind.IMAGE else "")

    @admin.display(description="markers")
    def marker_count(self, obj):
        return obj.markers.count()

    @admin.display(description="page")
    def page(self, obj):
        return format_html('<a href="{}">open</a>', reverse("stimulus-page", args=[obj.pk])) if obj.pk else "-"
