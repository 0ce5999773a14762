"""Text no field may hold: NUL bytes, other control characters, unpaired surrogates.

PostgreSQL refuses NUL in text (a 500 where SQLite stored it), an unpaired surrogate cannot be
encoded at all, and control characters only hide text in the admin and the CSV exports. A field
holding any of them is refused with a 400 that names it, before a view sees the request: every form
field and query parameter of the pages, the sign-in forms and the admin. The API's JSON-free
multipart fields are checked by its serializer (emotion/research/api/serializers.py) with the same rule.
Tab, line feed and carriage return are ordinary text and stay allowed.
"""

from __future__ import annotations

import re
from typing import Iterable, Optional, Tuple

from .refusals import refusal

_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def bad_character(value: str) -> Optional[str]:
    """What is wrong with ``value`` in words, or None when it is clean."""
    m = _BAD.search(value)
    if m is None:
        return None
    c = m.group()
    code = f"U+{ord(c):04X}"
    if c == "\x00":
        return f"a NUL byte ({code})"
    if "\ud800" <= c <= "\udfff":
        return f"an unpaired surrogate ({code}), which is no character"
    return f"a control character ({code})"


def problem(field: str, value: str) -> Optional[str]:
    """The refusal message for one field, or None."""
    what = bad_character(value)
    if what is None:
        return None
    return f'The field "{_printable(field)}" contains {what}; remove it and send again.'


def first_problem(fields: Iterable[Tuple[str, str]]) -> Optional[str]:
    for name, value in fields:
        message = problem(name, name) or problem(name, value)
        if message:
            return message
    return None


def _printable(name: str) -> str:
    return _BAD.sub("?", name)[:80]


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class BadTextMiddleware:
    """A 400 naming the field for bad text in the query string or a form body. API bodies are left to
    the API's own parsers, whose error format its clients expect."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        fields = list(request.GET.lists())
        if (request.method == "POST" and not request.path_info.startswith("/api/")
                and request.content_type in FORM_TYPES):
            fields += list(request.POST.lists())
        message = first_problem((name, v) for name, values in fields for v in values)
        if message:
            return refusal(request, 400, "Refused", message)
        return self.get_response(request)
