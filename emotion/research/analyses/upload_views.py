"""The upload form's side of the pages: the analyses list and a study's page both post here.

Kept apart from views.py and studies/views.py so that both pages use it without importing each other;
each hands in how to render itself when an upload is stopped.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from ..models import Study
from . import services
from .validation import UploadRefused


def upload_limits() -> dict:
    return {"max_mb": settings.FER_MAX_UPLOAD_MB, "max_minutes": settings.FER_MAX_VIDEO_SECONDS / 60,
            "max_files": settings.FER_FILES_PER_PAGE_UPLOAD, "max_jobs": settings.FER_JOBS_PER_USER}


def upload(request, study: Study = None, page=None):
    """The upload form of the analyses list, and of a study's page (with a participant and a condition).
    The caller has checked that the user may upload into ``study``; ``page(status)`` renders the page
    the form is on, answered when the upload is stopped (503 or 429).

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
        return _stopped(request, exc, [], files, page)
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
            return _stopped(request, exc, created, files[i:], page)
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


def _stopped(request, exc, created: list, left: list, page):
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
    response = page(status)
    response["Retry-After"] = str(retry)
    return response


def _go(request, target: str):
    if request.headers.get("X-Requested-With") == "XMLHttpRequest":
        # the page uploads with XHR to show upload progress, then goes where a redirect would lead
        return JsonResponse({"redirect": target})
    return redirect(target)
