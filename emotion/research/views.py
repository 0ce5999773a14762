"""The researcher's pages: upload and list, one analysis' timeline and its editing, frames with boxes,
downloads. The study pages are in study_views.py."""

from __future__ import annotations

import logging
import zipfile

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from emotion.access import analysis_may, analysis_role, visible_analyses
from emotion.ml.frame_pack import read_frame
from emotion.ml.media import MediaError

from . import services
from .exports import csv_response, download_name
from .models import Analysis, Role, Study
from .runner import refuse_over_limit
from .player import video_offset
from .statistics import NoBaseline, baseline_of
from .streaming import stream_file
from .validation import MIME, MediaFacts, UploadRefused, without_path

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
    from fersite.throttle import refusal

    return refusal(request, 403, "Not allowed", NOT_ALLOWED[need])


@login_required
def analysis_list(request):
    if request.method == "POST":
        return upload(request)
    page = Paginator(visible_analyses(request.user), 25).get_page(request.GET.get("page"))
    return render(request, "research/list.html", {"page": page, "limits": _limits()})


def _limits() -> dict:
    return {"max_mb": settings.FER_MAX_UPLOAD_MB, "max_minutes": settings.FER_MAX_VIDEO_SECONDS / 60,
            "max_files": settings.FER_FILES_PER_PAGE_UPLOAD, "max_jobs": settings.FER_JOBS_PER_USER}


def upload(request, study: Study = None):
    """The upload form of the analyses list, and of a study's page (with a participant and a condition).
    The caller has checked that the user may upload into ``study``.

    Unlike the API (one file a request) a page upload may carry several files, the way a file chooser
    picks them, but at most FER_FILES_PER_PAGE_UPLOAD; each counts against the per-user upload window
    the API's uploads count against too, and against the jobs a user may have queued or running
    (shares.py). Those are checked for the whole request first: refused, nothing is stored."""
    back = reverse("research:study", args=[study.pk]) if study else reverse("research:list")
    files = request.FILES.getlist("files")
    if not files:
        messages.error(request, "Choose at least one image or video to upload.")
        return _go(request, back)
    cap = settings.FER_FILES_PER_PAGE_UPLOAD
    if len(files) > cap:
        messages.error(request, f"{len(files)} files were chosen; one upload may carry at most {cap}. Nothing was "
                                f"stored: send them in groups of {cap} or fewer.")
        return _go(request, back)
    try:
        services.check_jobs(request.user, len(files))
        services.count_uploads(request.user, len(files))
    except services.Busy as exc:
        return _stopped(request, exc, [], files, study)
    title, notes = request.POST.get("title", ""), request.POST.get("notes", "")
    keys = {"participant": request.POST.get("participant", ""), "condition": request.POST.get("condition", "")}
    try:
        step = int(request.POST.get("frame_step") or 1)
    except ValueError:
        messages.error(request, "The frame step must be a whole number.")
        return _go(request, back)
    created = []
    for i, f in enumerate(files):
        try:
            created.append(services.create_analysis(request.user, f, title if len(files) == 1 else
                                                    (f"{title} · {f.name}" if title else ""), notes, step,
                                                    study=study, **keys))
        except services.Refused as exc:       # the same for every file: say it once
            messages.error(request, str(exc))
            return _go(request, back)
        except UploadRefused as exc:
            messages.error(request, f"{f.name}: {exc}")
        except (services.QueueUnavailable, services.Busy) as exc:
            return _stopped(request, exc, created, files[i:], study)
    if created:
        message = f"{len(created)} file{'s' if len(created) > 1 else ''} queued for analysis"
        if study:       # the form empties again: say what the files were filed under
            a = created[0]
            message += (f": {', '.join(c.original_name for c in created)}, participant "
                        f"{a.participant or '(none)'}, condition {a.condition or '(none)'}")
        messages.success(request, message + ".")
    # One file outside a study opens its page; into a study, the researcher comes back to the study's
    # page, which follows the new row and where the next participant's video is uploaded.
    target = created[0].get_absolute_url() if len(created) == 1 and len(files) == 1 and not study else back
    return _go(request, target)


def _stopped(request, exc, created: list, left: list, study: Study = None):
    """The upload stopped: 503 when the job queue cannot be reached or the server is busy probing, 429
    when the user's share is used up (services.Busy), with Retry-After. Nothing of the files left was
    stored (a file queued before that stays queued)."""
    status, retry = (exc.status, exc.retry_after) if isinstance(exc, services.Busy) else (503, 60)
    message = str(exc)
    if created:
        message += (f" {len(created)} file{'s were' if len(created) > 1 else ' was'} queued before that; "
                    f"{', '.join(f.name for f in left)} {'were' if len(left) > 1 else 'was'} not stored.")
    if request.headers.get("X-Requested-With") == "XMLHttpRequest":
        # "queued": the page says "Nothing was stored" only when nothing was
        return JsonResponse({"detail": message, "queued": len(created)}, status=status,
                            headers={"Retry-After": str(retry)})
    messages.error(request, message)
    if study is not None:
        from .study_views import study_page

        response = study_page(request, study, status=status)
    else:
        page = Paginator(visible_analyses(request.user), 25).get_page(1)
        response = render(request, "research/list.html", {"page": page, "limits": _limits()}, status=status)
    response["Retry-After"] = str(retry)
    return response


def _go(request, target: str):
    if request.headers.get("X-Requested-With") == "XMLHttpRequest":
        # the page uploads with XHR to show upload progress, then goes where a redirect would lead
        return JsonResponse({"redirect": target})
    return redirect(target)


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
                                                    "video_offset": video_offset(analysis), "baseline": baseline,
                                                    **edit_context(request, analysis)})


def faces_to_choose(summary: dict) -> list:
    """The faces of the timeline's chooser, the main one first (most reliable frames, then most frames):
    opening on face #1 showed a face seen for half a second. Each says how much of the video it is in."""
    analysed = summary.get("frames_analysed") or 0
    faces = sorted(summary.get("per_face", []), key=lambda f: (-(f.get("reliable_frames") or 0), -f["frames"], f["face_id"]))
    return [{**f, "share": f["frames"] / analysed if analysed else None} for f in faces]


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
