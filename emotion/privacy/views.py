from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from emotion.web.streaming import FILE_BLOCK, stream
from emotion.web.throttle import wrong_password

from . import datadump, stimuli_dump
from .accounts import delete_account
from .retention import KINDS, SETTING


def _retention() -> list:
    labels = {"originals": "Uploaded files (originals)", "annotated": "Annotated images and videos",
              "results": "Analyses and their results",
              "recordings": "Participants' remote sessions of your stimuli (per-frame results)",
              "live": "Stored live sessions"}
    # stimuli are the study's material, not anyone's face: no period (docs/privacy.md says why)
    return [(labels[k], getattr(settings, SETTING[k], 0)) for k in KINDS] + [("Stimuli and their event markers", 0)]


@login_required
@never_cache
def your_data(request):
    user = request.user
    return render(request, "privacy/your_data.html", {
        "retention": _retention(),
        "counts": {"analyses": user.analyses.count(), "studies": user.owned_studies.count(),
                   "live_sessions": user.live_sessions.count(), "stimuli": stimuli_dump.owned_stimuli(user).count(),
                   "recordings": stimuli_dump.owned_recordings(user).count()},
    })


@login_required
@never_cache
def download(request):
    fh = datadump.build(request.user)
    size = fh.seek(0, 2)
    fh.seek(0)

    def chunks():
        with fh:                  # closing the temporary file deletes it, also when the client leaves early
            while block := fh.read(FILE_BLOCK):
                yield block

    return stream(request, chunks(), "application/zip", datadump.filename(request.user), length=size)


@login_required
@never_cache
def delete(request):
    if request.method == "POST":
        if not request.user.check_password(request.POST.get("password", "")):
            wrong_password(request)       # counted with sign-in failures: a held session must not guess it
            messages.error(request, "That is not your password; nothing was deleted.")
            return render(request, "privacy/delete.html", status=400)
        counts = delete_account(request.user)
        logout(request)           # after: a failed deletion leaves the user signed in, and told
        messages.success(request, f"Your account was deleted, with {counts['analyses']} analyses, "
                                  f"{counts['studies']} studies you owned and {counts['live_sessions']} live "
                                  "sessions.")
        return redirect("emotion:home")
    return render(request, "privacy/delete.html")
