"""The researcher's pages: upload and list, one analysis' timeline and its editing, frames with boxes,
downloads. The study pages are in studies/views.py."""

from __future__ import annotations

import logging
import zipfile

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from emotion.access import analysis_may, analysis_role, visible_analyses
from emotion.ml.frame_pack import read_frame
from emotion.ml.media import MediaError
from emotion.web.refusals import refusal
from emotion.web.streaming import stream_file

from ..exports.analysis import csv_response, download_name
from ..models import Analysis, Role
from ..stats.statistics import NoBaseline, baseline_of
from . import services
from .runner import refuse_over_limit
from .summary import faces_to_choose
from .upload_views import upload, upload_limits
from .validation import MIME, MediaFacts, without_path

log = logging.getLogger(__name__)


def _own(request, pk: int) -> Analysis:
    # someone else's analysis is a 404, not a 403: its existence is not revealed either
    return get_object_or_404(visible_analyses(request.user), pk=pk)


NOT_ALLOWED = {
    Role.EDITOR: "You may view this analysis but not change it: that takes the editor role in its study.",
    Role.OWNER: "Only the study's owner may delete its analyses.",
}


def allowed(request, analysis: Analysis, need: str):
    """None when the user may do what ``need`` allows (emotion/access.py), else the 403 page that says
    why. Only for analyses the user can see: others are 404s (see _own)."""
    if analysis_may(request.user, analysis, need):
        return None
    return refusal(request, 403, "Not allowed", NOT_ALLOWED[need])


@login_required
def analysis_list(request):
    if request.method == "POST":
        return upload(request, page=lambda status: list_page(request, 1, status))
    return list_page(request, request.GET.get("page"))


def list_page(request, number, status: int = 200):
    page = Paginator(visible_analyses(request.user), 25).get_page(number)
    return render(request, "research/list.html", {"page": page, "limits": upload_limits()}, status=status)


@login_required
def analysis_detail(request, pk: int):
    analysis = _own(request, pk)
    faces = faces_to_choose(analysis.summary or {})
    # one lane per tracked face in the faces chart, plus room for its axis
    lanes_height = 60 + 24 * max(1, len(faces))
    # The baseline travels with the page: asking the API for one that does not exist answered 404,
    # a console error on every analysis page outside a study.
    try:
        baseline = baseline_of(analysis, visible_analyses(request.user)) if analysis.result_count else None
    except NoBaseline:
        baseline = None
    return render(request, "research/detail.html", {"a": analysis, "faces": faces, "lanes_height": lanes_height,
                                                    "video_offset": analysis.video_offset, "baseline": baseline,
                                                    **edit_context(request, analysis)})


def edit_context(request, analysis: Analysis, values: dict = None) -> dict:
    """What templates/research/_analysis_edit.html needs: the user's role, and the values to show
    (the analysis' own, or what was just sent when it was refused, so nothing typed is lost)."""
    role = analysis_role(request.user, analysis)
    shown = {"title": analysis.title, "notes": analysis.notes, "tags": ", ".join(analysis.tags),
             "participant": analysis.participant.code if analysis.participant else "",
             "condition": analysis.condition.name if analysis.condition else "", "is_baseline": analysis.is_baseline}
    shown.update(values or {})
    study = analysis.study
    return {"role": role, "can_edit": analysis_may(request.user, analysis, Role.EDITOR),
            "can_delete": analysis_may(request.user, analysis, Role.OWNER),
            "edit": shown, "participants": study.participants.all() if study else [],
            "conditions": study.conditions.all() if study else []}


@login_required
def edit(request, pk: int):
    """The edit form of an analysis (a part of its page; alone on GET), and its changes (POST)."""
    analysis = _own(request, pk)
    if request.method != "POST":
        return render(request, "research/analysis_edit.html", {"a": analysis, "edit_open": True,
                                                                **edit_context(request, analysis)})
    denied = allowed(request, analysis, Role.EDITOR)
    if denied:
        return denied
    changes = {f: request.POST.get(f, "") for f in ("title", "notes", "tags")}
    if analysis.study_id:
        changes.update({f: request.POST.get(f, "") for f in ("participant", "condition")})
        changes["is_baseline"] = request.POST.get("is_baseline") == "on"
    try:
        services.update_analysis(analysis, **changes)
    except services.Refused as exc:
        fresh = Analysis.objects.get(pk=analysis.pk)
        return render(request, "research/analysis_edit.html",
                      {"a": fresh, "edit_error": str(exc), **edit_context(request, fresh, changes)}, status=400)
    messages.success(request, "Saved.")
    return redirect(analysis)


@login_required
def frame_image(request, pk: int, frame: int):
    """One analysed frame with the boxes of its results, as the analysis job kept it
    (emotion/ml/frame_pack.py). Its bytes are served as they are: nothing is decoded here, whatever
    the upload holds (a frame larger than its container says, a late frame of a video with one
    keyframe), so a request costs no more than reading one stored JPEG. Media over the limits (an
    analysis stored before them) is refused from its stored size."""
    analysis = _own(request, pk)
    try:
        refuse_over_limit(analysis)
    except MediaError as exc:
        return _not_shown(f"This frame is not shown: {without_path(str(exc))}.", 400)
    jpeg = _kept_frame(analysis, frame)
    if jpeg is None:
        return _not_shown(_why_not_kept(analysis, frame), 404)
    return HttpResponse(jpeg, content_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})


def _kept_frame(analysis: Analysis, frame: int):
    if not analysis.frames or frame % max(analysis.frames_step, 1):
        return None
    try:
        with analysis.frames.storage.open(analysis.frames.name, "rb") as fh:
            return read_frame(fh, frame)
    except (OSError, zipfile.BadZipFile):
        log.warning("the frames of analysis %s cannot be read", analysis.pk, exc_info=True)
        return None


def _why_not_kept(analysis: Analysis, frame: int) -> str:
    if analysis.status == Analysis.Status.FAILED and not analysis.frames:
        return f"Frame {frame} is not shown: the analysis failed. {analysis.error}"
    if not analysis.finished:
        return f"Frame {frame} is not shown yet: the frames are kept when the analysis finishes."
    if not analysis.frames:
        return (f"Frame {frame} is not shown: no frames are kept for this analysis (analysed before frames were "
                "kept, or deleted with its original). Re-run it to keep them, if its original is still stored.")
    return (f"Frame {frame} is not among the frames kept for viewing: every {analysis.frames_step}th frame "
            f"is kept, up to frame {analysis.frame_count or 0}.")


def _not_shown(message: str, status: int) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


@login_required
def download_csv(request, pk: int):
    return csv_response(request, _own(request, pk))


@login_required
def download_annotated(request, pk: int):
    analysis = _own(request, pk)
    if not analysis.annotated:
        raise Http404("This analysis has no annotated media")
    ext = analysis.annotated.name.rsplit(".", 1)[-1]
    return stream_file(request, analysis.annotated, MIME[ext], download_name(analysis, f"annotated.{ext}"),
                       attachment=request.GET.get("inline") is None)


@login_required
def original(request, pk: int):
    analysis = _own(request, pk)
    if not analysis.file:         # deleted by the retention purge (emotion/privacy/retention.py)
        raise Http404("The original file was deleted after its retention period")
    # The type comes from the checked content, never from the user's file name (an "x.html" that is
    # really a JPEG must not be served as a page), and it is always a download.
    return stream_file(request, analysis.file, MIME[analysis.media_format],
                       download_name(analysis, f"original{MediaFacts.extension_of(analysis.media_format)}"))


@login_required
@require_POST
def rerun(request, pk: int):
    analysis = _own(request, pk)
    denied = allowed(request, analysis, Role.EDITOR)
    if denied:
        return denied
    if not analysis.finished:
        messages.error(request, "This analysis is still queued or running.")
    else:
        try:
            services.rerun(analysis)
            messages.success(request, "Queued again with the current model.")
        except (services.QueueUnavailable, services.OriginalGone, services.Busy) as exc:
            messages.error(request, str(exc))
    return redirect(analysis)


@login_required
@require_POST
def delete(request, pk: int):
    analysis = _own(request, pk)
    denied = allowed(request, analysis, Role.OWNER)
    if denied:
        return denied
    name, study = str(analysis), analysis.study_id
    services.delete_analysis(analysis)
    messages.success(request, f"Deleted “{name}” and its files.")
    return redirect("research:study", study) if study else redirect("research:list")
