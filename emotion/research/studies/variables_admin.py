"""Participant variables and their values in the admin (registered by admin.py), checked by the rules of
variables.py, the study page's and the API's: a variable's name and kind are fixed once defined, and a
value must fit its variable's kind and belong to a participant of the variable's own study."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from emotion.web.refusals import Refused

from .variables import check_definition, clean_value


class VariableForm(forms.ModelForm):
    def clean(self):
        data = super().clean()
        if self.instance.pk is None and data.get("study") and not self.errors:
            try:
                data["name"] = check_definition(data["study"], data.get("name", ""), data.get("kind", ""))
            except Refused as exc:
                raise forms.ValidationError({exc.field or forms.models.NON_FIELD_ERRORS: str(exc)}) from None
        return data


class VariableAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "study", "value_count"]
    list_filter = ["kind", "study"]
    search_fields = ["name", "study__name"]
    list_select_related = ["study"]
    form = VariableForm

    def get_readonly_fields(self, request, obj=None):
        # fixed once defined: values were checked against the kind, and the exports name the column
        return ["study", "name", "kind"] if obj is not None else []

    @admin.display(description="values")
    def value_count(self, obj):
        return obj.values.count()


class ParticipantValueForm(forms.ModelForm):
    def clean(self):
        data = super().clean()
        participant, variable = data.get("participant"), data.get("variable")
        if participant and variable and not self.errors:
            if participant.study_id != variable.study_id:
                raise forms.ValidationError(f"{variable.name} is a variable of “{variable.study}”, and {participant} "
                                            f"is a participant of “{participant.study}”.")
            try:
                data["value"] = clean_value(variable, data.get("value", ""))
            except ValueError as exc:
                raise forms.ValidationError({"value": str(exc)}) from None
        return data


class ParticipantValueAdmin(admin.ModelAdmin):
    list_display = ["participant", "variable", "value", "study"]
    list_filter = ["variable__study", "variable__kind"]
    search_fields = ["participant__code", "variable__name", "value", "participant__study__name"]
    list_select_related = ["participant", "variable", "variable__study"]
    autocomplete_fields = ["participant", "variable"]
    form = ParticipantValueForm

    @admin.display(description="study")
    def study(self, obj):
        return obj.variable.study
