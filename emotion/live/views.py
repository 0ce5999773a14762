from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render

from .models import LiveSession
from .recorder import unreliable_points


def page(request):
    """The webcam page; everything live happens over the /ws/live/ socket. The emotions and their
    colours come to the page's script from the context processor (#fer-emotions)."""
    return render(request, "live/page.html", {
        "config": {"wsPath": "/ws/live/", "defaultFps": 10,
                   "maxFps": settings.FER_LIVE_MAX_FPS, "maxFrameBytes": settings.FER_LIVE_MAX_FRAME_BYTES},
    })


@login_required
def sessions(request):
    rows = LiveSession.objects.filter(user=request.user).only(
        "started_at", "ended_at", "frames_analysed", "avg_fps", "avg_latency_ms", "emotion_share")
    return render(request, "live/sessions.html", {"sessions": rows[:200]})


@login_required
def session_detail(request, pk: int):
    # Someone else's session is "not found", not "forbidden": its existence is not disclosed.
    session = get_object_or_404(LiveSession, pk=pk, user=request.user)
    if request.method == "POST" and request.POST.get("action") == "delete":
        session.delete()
        messages.success(request, "The session was deleted.")
        return redirect("live:sessions")
    return render(request, "live/session.html", {"session": session,
                                                 "unreliable_points": unreliable_points(session.timeline)})
