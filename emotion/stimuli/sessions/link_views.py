"""The links page of a stimulus, /stimuli/<pk>/links/: its invitation links (made here, the full URLs
shown once), their uses, revoking one; its recordings, with their downloads; attaching an uploaded
analysis with an offset. Members of the study see it; changes take the editor role."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from emotion.research.models import CODE_LENGTH, FIELD_LIMITS
from emotion.web.refusals import Refused, refusal

from ..access import stimulus_may_change, visible_stimulus
from ..models import Recording
from . import links, recordings


@never_cache                   # the answer to a POST holds keys shown once: no copy may be kept
@login_required
def links_page(request, pk: int):
    stimulus = visible_stimulus(request.user, pk)
    if request.method != "POST":
        return _page(request, stimulus)
    if not stimulus_may_change(request.user, stimulus):
        return refusal(request, 403, "Not allowed", "Making links and attaching recordings takes the editor role "
                                                    "in this study; you may view them only.")
    action = request.POST.get("action")
    try:
        if action in ("per-code", "open"):
            return _make(request, stimulus, action)
        if action == "revoke":
            link = stimulus.links.filter(pk=_id(request.POST.get("link"))).first()
            if link is not None:
                links.revoke(link)
                messages.success(request, "The link is revoked: it starts no more sessions.")
        elif action == "attach":
            rec = recordings.attach(stimulus, request.POST.get("analysis"), request.POST.get("offset"))
            messages.success(request, f"Attached the recording of {rec.participant} at an offset of {rec.offset:g} s.")
        elif action == "delete-recording":
            rec = stimulus.recordings.filter(pk=_id(request.POST.get("recording"))).first()
            if rec is not None:
                rec.delete()
                messages.success(request, "The recording is deleted" + (
                    " (its analysis stays)." if rec.source == Recording.Source.UPLOAD else ", with its frames."))
        else:
            messages.error(request, "Unknown action.")
    except Refused as exc:
        messages.error(request, str(exc))
        return _page(request, stimulus, sent=request.POST, status=400)
    return redirect("stimuli-links", stimulus.pk)


def _id(value):
    return int(value) if str(value or "").isdigit() else None


def _make(request, stimulus, action: str):
    codes = None
    if action == "per-code":
        codes = request.POST.getlist("participants") + links.parse_codes(request.POST.get("codes", ""))
    made = links.create(stimulus, request.user, codes, request.POST.get("condition", ""),
                        request.POST.get("days"), request.POST.get("max_uses"))
    shown = [{"link": m.link, "url": request.build_absolute_uri(m.path)} for m in made]
    return _page(request, stimulus, made=shown)


def _page(request, stimulus, made=None, sent=None, status: int = 200):
    study = stimulus.study
    return render(request, "stimuli/links.html", {
        "stimulus": stimulus, "study": study, "can_edit": stimulus_may_change(request.user, stimulus),
        "links": [(link, links.state(link)) for link in stimulus.links.select_related("participant", "condition")],
        "recordings": recordings.listed(stimulus), "attachable": recordings.attachable(stimulus),
        "participants": study.participants.all(), "conditions": study.conditions.all(),
        "made": made or [], "made_text": "\n".join(f"{m['link'].participant or 'open'},{m['url']}" for m in made or []),
        "sent": sent or {}, "limits": FIELD_LIMITS, "code_length": CODE_LENGTH,
        "defaults": {"days": links.DEFAULT_DAYS, "open_uses": links.OPEN_DEFAULT_USES},
    }, status=status)
