"""Invitation links to a stimulus: making them, finding one by its key, revoking one.

A link holds a random key; only the key's SHA-256 is stored (as for a live session's private link,
emotion/live/access.py, whose key and hash rules these are), so the full URL is shown once, when the
link is made, and a wrong, expired or used-up key is "not found" like one that never existed.

A per-code link is for one participant (max_uses 1 by default); an open link asks each participant
for their code (validated like every code of the study, research/analyses/services.py) and counts each start.
Revoking ends a link now (its expiry becomes the moment of revocation): its row and its uses stay
listed, its recordings keep their data.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import List, Optional, Sequence

from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from emotion.live.access import key_hash, new_key
from emotion.research.studies.services import condition_named, participant_named, study_key
from emotion.web.refusals import Refused

from ..models import Stimulus, StimulusLink

DEFAULT_DAYS = 14
MAX_DAYS = 365
OPEN_DEFAULT_USES = 100
MAX_USES = 10_000
MAX_CODES_AT_ONCE = 500
VISIT_SALT = "stimuli.visit"
VISIT_SECONDS = 3 * 3600       # a page opened while its link was usable may load the stimulus this long


@dataclass
class NewLink:
    link: StimulusLink
    key: str                   # shown once: nowhere else is it kept

    @property
    def path(self) -> str:
        return take_path(self.key)


def take_path(key: str) -> str:
    return reverse("stimuli-take", args=[key])


def parse_codes(text: str) -> List[str]:
    """Codes pasted one per line, or separated by commas, semicolons or tabs; blanks and repeats dropped."""
    seen, out = set(), []
    for code in re.split(r"[\n,;\t]+", text or ""):
        code = code.strip()
        if code and code not in seen:
            seen.add(code)
            out.append(code)
    return out


def _whole_number(value, name: str, low: int, high: int, default: int) -> int:
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise Refused(f"The {name} must be a whole number.", name) from None
    if not low <= number <= high:
        raise Refused(f"The {name} must be between {low} and {high:,}.", name)
    return number


def create(stimulus: Stimulus, user, codes: Optional[Sequence[str]], condition: str = "", days=None,
           max_uses=None) -> List[NewLink]:
    """One link per code (participants new to the study are created), or one open link when ``codes``
    is None. Everything is checked before anything is written: a bad code refuses the whole request."""
    days = _whole_number(days, "days", 1, MAX_DAYS, DEFAULT_DAYS)
    uses = _whole_number(max_uses, "max_uses", 1, MAX_USES, 1 if codes is not None else OPEN_DEFAULT_USES)
    if codes is not None:
        codes = [study_key("participant", stimulus.study, c) for c in codes]
        codes = [c for c in codes if c]
        if not codes:
            raise Refused("Give at least one participant code, or make an open link.", "participants")
        if len(codes) > MAX_CODES_AT_ONCE:
            raise Refused(f"At most {MAX_CODES_AT_ONCE} links at once.", "participants")
    expires = timezone.now() + timedelta(days=days)
    made = []
    with transaction.atomic():
        cond = condition_named(stimulus.study, study_key("condition", stimulus.study, condition))
        for code in codes if codes is not None else [None]:
            participant = participant_named(stimulus.study, code)
            key = new_key()
            link = StimulusLink.objects.create(stimulus=stimulus, key_hash=key_hash(key), participant=participant,
                                               condition=cond, expires_at=expires, max_uses=uses, created_by=user)
            made.append(NewLink(link, key))
    return made


def find(key: str) -> Optional[StimulusLink]:
    """The link whose key this is, usable or not; None for a key that matches none."""
    if not key or len(key) > 100:
        return None
    digest = key_hash(key)
    link = (StimulusLink.objects.select_related("stimulus", "stimulus__study", "participant", "condition")
            .filter(key_hash=digest).first())
    # the lookup is by the hash itself; compared again in constant time all the same
    return link if link is not None and hmac.compare_digest(link.key_hash, digest) else None


def usable(key: str) -> Optional[StimulusLink]:
    """The link, when it may still start a session: known, not expired, not used up."""
    link = find(key)
    return link if link is not None and link.usable() else None


def state(link: StimulusLink, now=None) -> str:
    now = now or timezone.now()
    if link.expires_at <= now:
        return "ended"
    return "used up" if link.uses >= link.max_uses else "open"


def revoke(link: StimulusLink) -> None:
    now = timezone.now()
    StimulusLink.objects.filter(pk=link.pk, expires_at__gt=now).update(expires_at=now)
    link.refresh_from_db(fields=["expires_at"])


# --- the visit: a page opened while its link was usable keeps its stimulus for a while ----------------
def visit_token(link: StimulusLink) -> str:
    """Lets the page that was opened go on loading the stimulus after its start used the link up."""
    return signing.dumps(link.pk, salt=VISIT_SALT)


def visit_allows(link: StimulusLink, token: Optional[str]) -> bool:
    if not token:
        return False
    try:
        return signing.loads(token, salt=VISIT_SALT, max_age=VISIT_SECONDS) == link.pk
    except signing.BadSignature:
        return False
