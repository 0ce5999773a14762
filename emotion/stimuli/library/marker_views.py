"""The stimulus page's marker forms (templates/stimuli/_markers.html): add, change, delete, and the CSV
both ways. Plain forms that work without script. Each answers in the markers card: a success goes back
to it (#markers), a refusal renders the page there again (400) with the reason beside the form and what
was typed still in it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.text import slugify

from ..access import visible_stimulus
from . import markers
from .views import MARKERS_TAG, changing, denied, stimulus_page


def _back(stimulus):
    return redirect(reverse("stimulus-page", args=[stimulus.pk]) + "#markers")


def _sent(request) -> dict:
    return {f: request.POST.get(f, "") for f in markers.COLUMNS}


@changing
def marker_add(request, stimulus):
    try:
        marker = markers.add(stimulus, **_sent(request))
    except markers.MarkerRefused as exc:
        messages.error(request, f"Not added: {exc}", extra_tags=MARKERS_TAG)
        return stimulus_page(request, stimulus, 400, {"form": "add", **_sent(request)})
    messages.success(request, f"Added “{marker.name}”, {marker.start:g}–{marker.end:g} s.", extra_tags=MARKERS_TAG)
    return _back(stimulus)


@changing
def marker_edit(request, stimulus, marker_id: int):
    marker = get_object_or_404(stimulus.markers, pk=marker_id)
    try:
        markers.change(marker, **_sent(request))
    except markers.MarkerRefused as exc:
        messages.error(request, f"“{marker.name}” was not changed: {exc}", extra_tags=MARKERS_TAG)
        return stimulus_page(request, stimulus, 400, {"form": "edit", "marker": marker.pk, **_sent(request)})
    messages.success(request, f"Saved “{marker.name}”, {marker.start:g}–{marker.end:g} s.", extra_tags=MARKERS_TAG)
    return _back(stimulus)


@changing
def marker_delete(request, stimulus, marker_id: int):
    marker = get_object_or_404(stimulus.markers, pk=marker_id)
    marker.delete()
    messages.success(request, f"Deleted “{marker.name}”.", extra_tags=MARKERS_TAG)
    return _back(stimulus)


def csv_name(stimulus) -> str:
    return f"{slugify(stimulus.title) or 'stimulus'}-{stimulus.pk}-markers.csv"


@login_required
def markers_csv(request, pk: int):
    """GET: the markers as CSV (every member); POST: a CSV import that replaces them (editors)."""
    stimulus = visible_stimulus(request.user, pk)
    if request.method != "POST":
        return HttpResponse(markers.export_csv(stimulus), content_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{csv_name(stimulus)}"'})
    no = denied(request, stimulus)
    if no:
        return no
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise markers.MarkerFileError(["Choose a CSV file of markers (name,start,end)."])
        if upload.size > markers.MAX_BYTES:            # refused before it is read into memory
            raise markers.MarkerFileError([f"The file is larger than {markers.MAX_BYTES // 1024 // 1024} MB."])
        done = markers.import_csv(stimulus, upload.read())
    except (markers.MarkerFileError, markers.MarkerRefused) as exc:
        errors = getattr(exc, "errors", [str(exc)])
        name = f"{upload.name} was" if upload is not None else "Nothing was"
        messages.error(request, f"{name} not imported; the markers are as they were.", extra_tags=MARKERS_TAG)
        return stimulus_page(request, stimulus, 400, {"form": "import", "errors": errors})
    messages.success(request, f"{upload.name}: {len(done)} marker{'s' if len(done) != 1 else ''} imported, "
                              "replacing the earlier ones.", extra_tags=MARKERS_TAG)
    return _back(stimulus)
