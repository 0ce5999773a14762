"""The study page's Stimuli card (templates/stimuli/_study_stimuli.html), drawn from the study alone so
that the research app's study view needs to know nothing of stimuli."""

from django import template
from django.db.models import Count

from emotion.access import study_may

from ..access import CHANGE
from ..models import IMAGE_SECONDS_DEFAULT, MARKER_NAME_LENGTH

register = template.Library()


@register.inclusion_tag("stimuli/_study_stimuli.html", takes_context=True)
def study_stimuli(context, study):
    request = context["request"]
    # a refused upload renders the study page again: what was typed goes back into the form
    refused = request.method == "POST" and getattr(request.resolver_match, "url_name", "") == "study-stimulus-upload"
    return {"study": study, "request": request, "messages": context.get("messages"),
            "stimuli": study.stimuli.annotate(marker_count=Count("markers")),
            "can_change": study_may(request.user, study, CHANGE), "sent": request.POST if refused else {},
            "image_seconds": IMAGE_SECONDS_DEFAULT, "csrf_token": context.get("csrf_token")}


@register.simple_tag
def marker_name_length() -> int:
    return MARKER_NAME_LENGTH


@register.filter
def seconds(value) -> str:
    """Seconds as typed: 2.5, 9.176, 10 (to the millisecond, no trailing zeros)."""
    try:
        return f"{round(float(value), 3):g}"
    except (TypeError, ValueError):
        return ""
