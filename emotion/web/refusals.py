"""Refusals that say why and for how long: one answer for pages and scripts alike, and the exception a
service raises when it refuses a change (the API turns it into a 400 naming the field)."""

from __future__ import annotations

import math
from typing import Optional

from django.http import JsonResponse
from django.shortcuts import render


def wait_words(seconds: int) -> str:
    """How long to wait, as a person would say it: "45 s", "3 min"."""
    return f"{seconds} s" if seconds < 90 else f"{math.ceil(seconds / 60)} min"


def refusal(request, status: int, title: str, message: str, headers: Optional[dict] = None):
    """A refusal that says why: JSON ({"detail"}) for scripts and the pages' XHR, a page for browsers."""
    wants_json = (request.path_info.startswith("/api/") or request.headers.get("X-Requested-With") == "XMLHttpRequest"
                  or "application/json" in request.headers.get("Accept", ""))
    if wants_json:
        response = JsonResponse({"detail": message}, status=status)
    else:
        response = render(request, "refused.html", {"title": title, "message": message}, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


class Refused(ValueError):
    """An edit or a study change that cannot be made; ``field`` names the input at fault (None: the
    request as a whole), the message says why in words the user can act on. Nothing was changed."""

    def __init__(self, message: str, field: Optional[str] = None):
        super().__init__(message)
        self.field = field
