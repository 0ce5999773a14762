"""What a remote session writes: its Recording, the followed face of each analysed frame on the
stimulus' time axis, its gaps, its end, its withdrawal. Synchronous (the socket calls these through
database_sync_to_async); the session's own rules are in sessions/session.py. What cannot be done
raises emotion.live.admission.Refusal, which the socket sends as its error.

Gaps are stretches of stimulus time without data, ``{"start", "end", "reason"}`` with reason pause,
seek, hidden or connection (models.Recording). A pause or a hidden tab stops the player, so its gap
is often of no length in stimulus time: it still marks where the participant's watching was broken.

A lost connection leaves a gap from the last frame to the stimulus' end, narrowed when the page
comes back (``rejoin``). Which connection is the session's current one is kept in the shared cache,
so a connection whose loss the server notices only after the page has already rejoined (a phone that
changed networks) does not cut the rejoined session.
"""

from __future__ import annotations

import uuid
from typing import List, Optional, Tuple

from django.core import signing
from django.core.cache import caches
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from emotion.live.admission import Refusal
from emotion.live.recorder import is_reliable, main_face
from emotion.ml import EMOTIONS
from emotion.research.studies.services import participant_named, study_key
from emotion.web.refusals import Refused as CodeRefused

from ..models import Recording, RecordingFrame, StimulusLink

REJOIN_SALT = "stimuli.rejoin"
REJOIN_SECONDS = 6 * 3600
REASONS = ("pause", "seek", "hidden", "connection")


def used_up() -> Refusal:
    return Refusal("used_up", "This invitation link has expired or has been used already.")


def gap(start: float, end: float, reason: str) -> dict:
    """Rounded as frame times are (``frame``), so a frame at a gap's edge is never inside it."""
    assert reason in REASONS
    return {"start": round(start, 4), "end": round(max(start, end), 4), "reason": reason}


def check_code(link: StimulusLink, code: str) -> str:
    """An open link's participant code, checked as every code of the study is."""
    try:
        code = study_key("participant", link.stimulus.study, code)
    except CodeRefused as exc:                    # its message says what to fix
        raise Refusal("bad_code", str(exc)) from None
    if not code:
        raise Refusal("bad_code", "Type your participant code first.")
    return code


def start(link: StimulusLink, code: Optional[str], model_version: str) -> Recording:
    """The stimulus starts: the link's use is counted (atomically: two pages cannot both take its last
    use) and the running Recording is created, for the link's participant or the code given."""
    now = timezone.now()
    with transaction.atomic():
        taken = (StimulusLink.objects.filter(pk=link.pk, uses__lt=F("max_uses"), expires_at__gt=now)
                 .update(uses=F("uses") + 1))
        if not taken:
            raise used_up()
        participant = link.participant or participant_named(link.stimulus.study, check_code(link, code or ""))
        return Recording.objects.create(stimulus=link.stimulus, participant=participant, condition=link.condition,
                                        source=Recording.Source.REMOTE, link=link, model_version=model_version,
                                        started_at=now)


def frame(recording_id: int, t: float, faces) -> Optional[RecordingFrame]:
    """The row of the followed (largest) face of one analysed frame, unsaved; None without a face."""
    face = main_face(faces)
    if face is None:
        return None
    return RecordingFrame(recording_id=recording_id, time=round(t, 4), **{e: face["probs"][e] for e in EMOTIONS},
                          top=face["top"], dominant=face["dominant"], confidence=face.get("confidence"),
                          reliable=face.get("reliable"), face_size=face.get("face_size"),
                          sharpness=face.get("sharpness"), brightness=face.get("brightness"), noise=face.get("noise"))


def flush(recording_id: int, rows: List[RecordingFrame], received: int, analysed: int, gaps: List[dict]) -> None:
    """Rows and counts kept since the last flush, and gaps closed meanwhile, in one transaction."""
    with transaction.atomic():
        RecordingFrame.objects.bulk_create(rows)
        Recording.objects.filter(pk=recording_id).update(
            frames_received=F("frames_received") + received, frames_analysed=F("frames_analysed") + analysed,
            frames_reliable=F("frames_reliable") + sum(1 for r in rows if is_reliable({"reliable": r.reliable})))
        if gaps:
            rec = Recording.objects.select_for_update().get(pk=recording_id)
            rec.gaps = [*rec.gaps, *gaps]
            rec.save(update_fields=["gaps"])


def finish(recording_id: int) -> Recording:
    Recording.objects.filter(pk=recording_id, state=Recording.State.RUNNING).update(
        state=Recording.State.DONE, ended_at=timezone.now())
    _forget_connection(recording_id)
    return Recording.objects.get(pk=recording_id)


def withdraw(recording_id: int, frames_seen: bool) -> bool:
    """Delete the recording and its frames. The link's use is given back only when nothing had been
    stored (no frame of a face kept, none waiting to be): the participant comes to it afresh."""
    with transaction.atomic():
        rec = Recording.objects.select_for_update().filter(pk=recording_id).first()
        if rec is None:
            return False
        stored = frames_seen or rec.frames.exists()
        link_id = rec.link_id
        rec.delete()                               # its frames go with it (CASCADE)
        returned = bool(not stored and link_id and
                        StimulusLink.objects.filter(pk=link_id, uses__gt=0).update(uses=F("uses") - 1))
    _forget_connection(recording_id)
    return returned


# --- connections: which one is current, what a loss and a rejoin write ------------------------------
def _connection_key(recording_id: int) -> str:
    return f"stimuli-recording-connection:{recording_id}"


def claim_connection(recording_id: int) -> str:
    """Make a new connection the session's current one; returns its id."""
    conn = uuid.uuid4().hex
    caches["limits"].set(_connection_key(recording_id), conn, REJOIN_SECONDS)
    return conn


def _forget_connection(recording_id: int) -> None:
    caches["limits"].delete(_connection_key(recording_id))


def connection_lost(recording_id: int, conn: str, start_t: float, reason: str) -> bool:
    """The gap a lost connection leaves, from ``start_t`` to the stimulus' end, unless the session
    has ended or another connection has rejoined it meanwhile. True when written."""
    if caches["limits"].get(_connection_key(recording_id)) not in (None, conn):
        return False
    with transaction.atomic():
        rec = (Recording.objects.select_for_update().select_related("stimulus")
               .filter(pk=recording_id, state=Recording.State.RUNNING).first())
        if rec is None:
            return False
        rec.gaps = [*rec.gaps, gap(start_t, rec.stimulus.duration, reason)]
        rec.save(update_fields=["gaps"])
    return True


def rejoin(token: str, link: StimulusLink, lost_at: float, t: float) -> Tuple[Recording, float]:
    """A page that lost its connection comes back with its session's token: the gap its loss left
    ends at ``t``, the player's time now. Returns the recording and the last stored frame's time."""
    try:
        recording_id = signing.loads(token, salt=REJOIN_SALT, max_age=REJOIN_SECONDS)
    except signing.BadSignature:
        raise Refusal("bad_token", "This session can no longer be continued; reload the page.") from None
    with transaction.atomic():
        rec = (Recording.objects.select_for_update().select_related("stimulus")
               .filter(pk=recording_id, link=link, state=Recording.State.RUNNING).first())
        if rec is None:
            raise Refusal("bad_token", "This session has ended or was withdrawn; it cannot be continued.")
        gaps, end = list(rec.gaps), rec.stimulus.duration
        if gaps and gaps[-1]["end"] >= round(end, 4) and gaps[-1]["start"] <= t:
            gaps[-1] = gap(gaps[-1]["start"], t, gaps[-1]["reason"])      # the loss's gap, now closed
        else:                                      # the server has not noticed the loss yet
            gaps.append(gap(min(lost_at, t), t, "connection"))
        rec.gaps = gaps
        rec.save(update_fields=["gaps"])
        last = rec.frames.aggregate(last=Max("time"))["last"]
    return rec, -1.0 if last is None else last


def rejoin_token(recording: Recording) -> str:
    return signing.dumps(recording.pk, salt=REJOIN_SALT)
