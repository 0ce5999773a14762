from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache

from emotion.access import may_delete_session, visible_sessions
from emotion.web.refusals import refusal

from . import access, exports
from .limits import PAGE_FPS
from .models import LiveSession
from .recorder import unreliable_points

FORMATS = {"csv": ("text/csv; charset=utf-8", exports.as_csv),
           "json": ("application/json", exports.as_json)}


def page(request):
    """The webcam page; everything live happens over the /ws/live/ socket. The emotions and their
    colours come to the page's script from the context processor (#fer-emotions), the server's limits
    from the socket's hello (limits.py)."""
    return render(request, "live/page.html", {"config": {"wsPath": "/ws/live/", "defaultFps": PAGE_FPS}})


@login_required
def sessions(request):
    rows = LiveSession.objects.filter(user=request.user).only(
        "started_at", "ended_at", "frames_analysed", "frames_with_faces", "avg_fps", "avg_latency_ms",
        "emotion_share")
    return render(request, "live/sessions.html", {"sessions": rows[:200]})


def _signed_in_session(request, pk: int) -> LiveSession:
    # Someone else's session is "not found", not "forbidden": its existence is not disclosed.
    return get_object_or_404(visible_sessions(request.user), pk=pk)


@login_required
def session_detail(request, pk: int):
    session = _signed_in_session(request, pk)
    if request.method == "POST" and request.POST.get("action") == "delete":
        if not may_delete_session(request.user, session):
            return refusal(request, 403, "Not allowed", "You may view this session but not delete it.")
        session.delete()
        messages.success(request, "The session was deleted.")
        return redirect("live:sessions")
    return _detail(request, session, urls={
        "csv": reverse("live:export", args=[pk, "csv"]), "json": reverse("live:export", args=[pk, "json"]),
        "back": reverse("live:sessions")})


@login_required
def export(request, pk: int, fmt: str):
    return _export(_signed_in_session(request, pk), fmt)


@never_cache
def private(request, pk: int, key: str):
    """The session its private link opens, for anyone holding the link (signed in or not)."""
    session = access.by_key(pk, key)
    if request.method == "POST" and request.POST.get("action") == "delete":
        session.delete()
        messages.success(request, "The session was deleted; its private link no longer opens anything.")
        return redirect("live:page")
    return _detail(request, session, urls={
        "csv": reverse("live:private-export", args=[pk, key, "csv"]),
        "json": reverse("live:private-export", args=[pk, key, "json"]),
        "back": reverse("live:sessions") if session.user_id and session.user_id == request.user.pk else None})


@never_cache
def private_export(request, pk: int, key: str, fmt: str):
    return _export(access.by_key(pk, key), fmt)


def _detail(request, session: LiveSession, urls: dict):
    return render(request, "live/session.html", {
        "session": session, "urls": urls, "unreliable_points": unreliable_points(session.timeline)})


def _export(session: LiveSession, fmt: str) -> HttpResponse:
    if fmt not in FORMATS:
        raise Http404("Sessions are exported as CSV or JSON")
    content_type, render_as = FORMATS[fmt]
    res = HttpResponse(render_as(session), content_type=content_type)
    res["Content-Disposition"] = content_disposition_header(True, exports.filename(session, fmt))
    res["X-Content-Type-Options"] = "nosniff"
    return res
