"""The study page's side of participant variables (the card in templates/research/_study_variables.html):
defining one and importing the CSV, for the study's editors and owner. Reading them (the CSV download)
is the API's (api/variables.py), which the card links to."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from emotion.web.refusals import Refused

from . import variables
from .views import _denied, _study


def _editing(view):
    """A POST by someone who may edit the study (a 404 for outsiders, a 403 for viewers, as the study
    pages answer); the view gets the study and answers with the page to go back to."""
    @login_required
    @require_POST
    @wraps(view)
    def guarded(request, pk: int):
        study = _study(request, pk)
        denied = _denied(request, study, "edit")
        if denied:
            return denied
        view(request, study)
        return redirect(reverse("research:study", args=[study.pk]) + "#variables")
    return guarded


@_editing
def define(request, study) -> None:
    try:
        variable = variables.define(study, request.POST.get("name", ""), request.POST.get("kind", ""))
    except Refused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Added the {variable.kind} variable “{variable.name}”: fill it in with the CSV below.")


@_editing
def import_csv(request, study) -> None:
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "Choose a CSV file of participant variables.")
        return
    try:
        if upload.size > variables.MAX_BYTES:
            raise variables.VariableFileError([f"The file is larger than {variables.MAX_BYTES // 1024} KB."])
        done = variables.import_csv(study, upload.read())
    except variables.VariableFileError as exc:
        messages.error(request, f"{upload.name} was not used, nothing was changed: " + "; ".join(exc.errors))
        return
    created = f"; new participants: {', '.join(done['created'])}" if done["created"] else ""
    messages.success(request, f"{upload.name}: {done['participants']} participants, {done['values_set']} values set, "
                              f"{done['values_removed']} removed{created}.")
