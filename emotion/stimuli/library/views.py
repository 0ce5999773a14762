"""The stimulus pages: uploading a stimulus into a study (its form is on the study page), the stimulus'
own page (player, markers on its time axis, settings), its media for the player, changing and deleting
it. Markers' forms are in marker_views.py.

Feedback goes where the user looks: a form posts to an address ending in its card's fragment, and a
refusal renders the page again there (400), with what was typed kept and the reason in the card
(messages tagged "in-card" are shown by their card, not at the top: templates/base.html)."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from emotion.access import visible_studies
from emotion.research.analyses.shares import Busy
from emotion.research.analyses.validation import MIME, MediaFacts, UploadRefused, refuse_oversized_request
from emotion.research.studies.views import _denied, study_page
from emotion.web.refusals import Refused, refusal
from emotion.web.streaming import stream_file

from ..access import stimulus_may_change, visible_stimulus
from ..models import Stimulus
from . import services, timeaxis

STIMULI_TAG, SETTINGS_TAG, MARKERS_TAG = "stimuli in-card", "stimulus in-card", "markers in-card"
VIEW_ONLY = "Changing this stimulus takes the editor role in its study; you may view it only."



def denied(request, stimulus: Stimulus):
    """None when the user may change the stimulus, else the 403 page saying why."""
    return None if stimulus_may_change(request.user, stimulus) else refusal(request, 403, "Not allowed", VIEW_ONLY)


def changing(view):
    """A POST by someone who may change the stimulus (a 404 for outsiders, a 403 for viewers); the view
    gets the stimulus in place of its id."""
    @login_required
    @require_POST
    @wraps(view)
    def guarded(request, pk: int, **kwargs):
        stimulus = visible_stimulus(request.user, pk)
        return denied(request, stimulus) or view(request, stimulus, **kwargs)
    return guarded


def stimulus_data(stimulus: Stimulus) -> dict:
    """What the page's scripts (and the time course drawn under the markers) read from
    #stimulus-data. ``offset``: seconds on the video's clock before its first picture, stimulus time 0."""
    return {"id": stimulus.pk, "kind": stimulus.kind, "duration": stimulus.duration, "offset": stimulus.video_offset,
            "markers": [{"name": m.name, "start": m.start, "end": m.end} for m in stimulus.markers.all()]}


def stimulus_page(request, stimulus: Stimulus, status: int = 200, sent: dict = None):
    """The page; ``sent``: what a refused form held, shown again in it (``marker``: the marker it was
    about, None for the add form; ``form``: which form)."""
    data = stimulus_data(stimulus)
    markers = list(stimulus.markers.all())
    for m in markers:
        m.length = m.end - m.start
    spans, lane_count = timeaxis.lanes(markers, stimulus.duration)
    return render(request, "stimuli/stimulus_detail.html", {
        "stimulus": stimulus, "study": stimulus.study, "data": data, "markers": markers, "spans": spans, "lane_count": lane_count,
        "ticks": timeaxis.ticks(stimulus.duration), "can_change": stimulus_may_change(request.user, stimulus),
        "sent": sent or {}}, status=status)


@login_required
def stimulus_detail(request, pk: int):
    return stimulus_page(request, visible_stimulus(request.user, pk))


@login_required
def stimulus_media(request, pk: int):
    return media_response(request, visible_stimulus(request.user, pk))


def media_response(request, stimulus: Stimulus):
    """The stimulus' file for a player, by byte ranges (a <video> seeks by asking for the part it
    needs). Its type is the one its content was checked to be, never the uploaded name's. The caller
    has decided that the request may have it."""
    if not stimulus.file:
        raise Http404("The stimulus' file is gone")
    return stream_file(request, stimulus.file, MIME[stimulus.media_format],
                       f"stimulus-{stimulus.pk}{MediaFacts.extension_of(stimulus.media_format)}", attachment=False)


@login_required
@require_POST
def upload_into_study(request, study_pk: int):
    """The study page's stimulus form. Refused: the study page again (400), the reason in its Stimuli
    card and what was typed still there (templates/stimuli/_study_stimuli.html reads it back)."""
    study = get_object_or_404(visible_studies(request.user), pk=study_pk)
    no = _denied(request, study, "edit")
    if no:
        return no
    upload = request.FILES.get("file")
    try:
        refuse_oversized_request(request.META.get("CONTENT_LENGTH"))
        if upload is None:
            raise UploadRefused("Choose an image or a video to show.")
        stimulus = services.create_stimulus(request.user, study, upload, request.POST.get("title", ""),
                                            request.POST.get("consent_text", ""), request.POST.get("duration"))
    except (Refused, UploadRefused, Busy) as exc:
        name = f"{upload.name}: " if upload is not None and isinstance(exc, UploadRefused) else ""
        messages.error(request, f"{name}{exc} Nothing was stored.", extra_tags=STIMULI_TAG)
        response = study_page(request, study, exc.status if isinstance(exc, Busy) else 400)
        if isinstance(exc, Busy):
            response["Retry-After"] = str(exc.retry_after)
        return response
    messages.success(request, f"Added the {stimulus.kind} “{stimulus}” ({stimulus.duration:g} s): mark its "
                              "events below the player.", extra_tags=MARKERS_TAG)
    return redirect("stimulus-page", stimulus.pk)


@changing
def stimulus_edit(request, stimulus: Stimulus):
    changes = {f: request.POST.get(f, "") for f in ("title", "consent_text")}
    if stimulus.kind == Stimulus.Kind.IMAGE:
        changes["duration"] = request.POST.get("duration", "")
    try:
        services.update_stimulus(stimulus, **changes)
    except Refused as exc:
        messages.error(request, str(exc), extra_tags=SETTINGS_TAG)
        return stimulus_page(request, Stimulus.objects.get(pk=stimulus.pk), 400, {"form": "settings", **changes})
    messages.success(request, "Saved.", extra_tags=SETTINGS_TAG)
    return redirect(reverse("stimulus-page", args=[stimulus.pk]) + "#stimulus-settings")


@changing
def stimulus_delete(request, stimulus: Stimulus):
    name, study = str(stimulus), stimulus.study_id
    services.delete_stimulus(stimulus)
    messages.success(request, f"Deleted the stimulus “{name}”, its markers and its file.", extra_tags=STIMULI_TAG)
    return redirect(reverse("research:study", args=[study]) + "#stimuli")
