"""The participant's page of an invitation link, /stimuli/take/<key>/, and the stimulus it plays.

No account: the key is the permission. A key that matches no link, or a link that has expired or is
used up, is "not found", all alike. Everything after the page (the code, the camera check, the session
itself) goes over the socket of sessions/consumer.py; static/js/participant.js drives it.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from emotion.research.analyses.validation import MIME
from emotion.research.models import CODE_LENGTH
from emotion.web.streaming import stream_file

from . import links

FRAMES_PER_SECOND = 10
FRAME_WIDTH = 640
# The page's URL holds the key: it must not leave in a Referer header, nor be kept by a search engine.
PRIVATE_HEADERS = {"Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex, nofollow"}


def _private(response):
    for name, value in PRIVATE_HEADERS.items():
        response[name] = value
    return response


@never_cache
def take(request, key: str):
    link = links.usable(key)
    if link is None:
        raise Http404("No such invitation, or it has expired or been used")
    stimulus = link.stimulus
    media = reverse("stimuli-take-media", args=[key]) + "?v=" + links.visit_token(link)
    return _private(render(request, "stimuli/participant.html", {
        "stimulus": stimulus, "needs_code": link.participant_id is None, "code_length": CODE_LENGTH,
        "config": {"wsPath": f"/ws/stimuli/take/{key}/", "mediaUrl": media, "kind": stimulus.kind,
                   "duration": stimulus.duration, "offset": stimulus.video_offset, "needsCode": link.participant_id is None,
                   "codeLength": CODE_LENGTH, "fps": FRAMES_PER_SECOND, "frameWidth": FRAME_WIDTH,
                   "maxFrameBytes": settings.FER_LIVE_MAX_FRAME_BYTES},
    }))


@never_cache
def media(request, key: str):
    """The stimulus, to the page of a usable link, and for a while to a page opened before its start
    used the link up (the player keeps asking for byte ranges while it plays)."""
    link = links.find(key)
    opened_before = link is not None and links.state(link) != "ended" and links.visit_allows(link, request.GET.get("v"))
    if link is None or not (link.usable() or opened_before):
        raise Http404("No such invitation, or it has expired or been used")
    stimulus = link.stimulus
    return _private(stream_file(request, stimulus.file, MIME.get(stimulus.media_format, "application/octet-stream"),
                                f"stimulus-{stimulus.pk}.{stimulus.media_format}", attachment=False))
