"""The pages' side of hand labels: the analysis page's upload form posts here (templates/research/
_agreement.html). The study statistics are drawn by static/research/study_stats.js from the API."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from emotion.access import editable_analyses, visible_analyses

from . import agreement

# Messages about a hand-label file are shown in the agreement card (templates/research/_agreement.html),
# not at the top of the page (base.html leaves "in-card" messages to their card)
LABELS_TAG = "labels in-card"


@login_required
@require_POST
def upload_labels(request, pk: int):
    analysis = get_object_or_404(visible_analyses(request.user), pk=pk)
    back = redirect(f"{analysis.get_absolute_url()}#agreement")
    if not editable_analyses(request.user).filter(pk=pk).exists():
        messages.error(request, "You may view this analysis but not change it; ask the study's owner for the "
                                "editor role.")
        return back
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "Choose a CSV file of hand labels.")
        return back
    try:
        figures = agreement.store(analysis, request.user, upload)
    except agreement.LabelFileError as exc:
        # shown in the agreement card the page jumps to, beside the figures it did not replace
        messages.error(request, f"{upload.name} was not used: " + "; ".join(exc.errors), extra_tags=LABELS_TAG)
        return back
    except agreement.NotFinished as exc:
        messages.error(request, str(exc))
        return back
    if figures["n"]:
        # the same figures, written as the table below writes them
        kappa = "undefined (one label throughout)" if figures["kappa"] is None else f"{figures['kappa']:.2f}"
        messages.success(request, f"Hand labels from {upload.name}: {figures['n']} results compared, accuracy "
                                  f"{figures['accuracy'] * 100:.1f}%, Cohen's κ {kappa}.")
    else:
        messages.error(request, f"Hand labels from {upload.name} were kept, but no reliable result falls on a "
                                "labelled frame: check the times (seconds) or frame numbers and face ids.")
    return back
