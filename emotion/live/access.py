"""The private link of a stored live session. Who else may see one (its signed-in owner, holders of
live.view_livesession): emotion/access.py.

A visitor who stores a session, signed in or not, is given a private link once, when the session is
created (the "started" reply on the socket). The link holds a random key; only the key's SHA-256 is
stored, so neither the database nor a backup of it can give the link back. The link lets its holder
view, export and delete that one session; a wrong key is "not found", like a session that does not
exist.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Optional

from django.http import Http404
from django.urls import reverse

from .models import LiveSession

KEY_BYTES = 32          # 256 random bits: the link cannot be guessed


def new_key() -> str:
    return secrets.token_urlsafe(KEY_BYTES)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def private_path(session_id: int, key: str) -> str:
    return reverse("live:private", args=[session_id, key])


def by_key(session_id: int, key: Optional[str]) -> LiveSession:
    """The session the link opens, or 404: no such session, no key stored for it, or a wrong key. The
    hashes are compared in constant time."""
    session = LiveSession.objects.filter(pk=session_id).exclude(access_key_hash="").first()
    if session is None or not key or not hmac.compare_digest(key_hash(key), session.access_key_hash):
        raise Http404("No such session")
    return session
