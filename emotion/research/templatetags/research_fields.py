"""The forms' maxlength, from the one statement of each field's length (models.FIELD_LIMITS)."""

from django import template

from ..models import FIELD_LIMITS

register = template.Library()


@register.simple_tag
def field_limit(name: str) -> int:
    return FIELD_LIMITS[name]
