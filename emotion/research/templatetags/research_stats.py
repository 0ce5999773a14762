"""What templates/research/_agreement.html needs beyond the analysis itself: its hand labels'
agreement as it stands now, whether the user may upload labels, and the confusion as rows to draw."""

from django import template

from emotion.access import editable_analyses
from emotion.ml import EMOTIONS

from ..models import HandLabels
from ..stats import agreement as agreement_mod

register = template.Library()


@register.simple_tag
def agreement_of(analysis):
    """The agreement of the analysis' hand labels (computed again after a re-run), or None."""
    labels = HandLabels.objects.filter(analysis=analysis).select_related("analysis").first()
    if labels is None:
        return None
    return {**agreement_mod.current(labels), "original_name": labels.original_name, "uploaded_at": labels.uploaded_at}


@register.simple_tag(takes_context=True)
def may_label(context, analysis) -> bool:
    user = context["request"].user
    return editable_analyses(user).filter(pk=analysis.pk).exists()


@register.filter
def confusion_rows(figures) -> list:
    """[(hand label, row total, [(our label, count, share of the row as "0.000", dark)])]: each row
    shaded by where that hand label's frames went, so rare and common labels read alike; ``dark``
    cells get light text."""
    rows = []
    for label, counts in zip(EMOTIONS, figures["confusion"]):
        total = sum(counts)
        shares = [n / total if total else 0.0 for n in counts]
        cells = [(ours, n, f"{sh:.3f}", sh > .5) for ours, n, sh in zip(EMOTIONS, counts, shares)]
        rows.append((label, total, cells))
    return rows


@register.filter
def percent(value) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


@register.filter
def plain(value, places=2) -> str:
    if value is None:
        return "–"
    text = f"{value:.{places}f}"
    # -0.001 rounds to "-0.00", which reads as a finding; zero has no sign
    return text[1:] if text.startswith("-") and float(text) == 0 else text
