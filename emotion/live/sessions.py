"""A live session and what is kept of it: its figures (recorder.SessionRecorder) for the "stopped"
summary and, when the visitor consents, its LiveSession row with a private link (access.py).

The one module of the live path that touches the database. Nothing here blocks the event loop by
itself: a consumer calls ``store``, ``save`` and ``finish`` off the loop (database_sync_to_async); the
rest is plain counting. Times come from an injectable clock (seconds, monotonic) and ``now`` (the
wall-clock time stored in the row).
"""

from __future__ import annotations

import time
from typing import Callable, Optional

from django.conf import settings
from django.utils import timezone

from . import access
from .models import LiveSession
from .recorder import SessionRecorder

# The figures of the "stopped" reply: the stored fields without the timeline.
SUMMARY_FIELDS = ("frames_received", "frames_analysed", "frames_with_faces", "frames_reliable", "avg_fps",
                  "avg_latency_ms", "emotion_share")


class LiveSessionRun:
    """One session of a connection, from "start" to "stop" (or the socket's end)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, now: Callable = timezone.now):
        self.clock, self.now = clock, now
        self.recorder = SessionRecorder(clock(), settings.FER_LIVE_TIMELINE_STEP, settings.FER_LIVE_TIMELINE_POINTS)
        self.row: Optional[LiveSession] = None
        self.last_saved = clock()

    @property
    def id(self) -> Optional[int]:
        return self.row.pk if self.row else None

    def store(self, user, model_version: str) -> str:
        """Keep this session (the visitor consented; admission allowed it): its row is created now and
        its private link returned. Only the key's hash is stored, so this is the link's one showing."""
        key = access.new_key()
        self.row = LiveSession.objects.create(user=user, started_at=self.now(), model_version=model_version,
                                              access_key_hash=access.key_hash(key))
        self.last_saved = self.clock()
        return access.private_path(self.row.pk, key)

    # --- frames (on the event loop: no I/O) --------------------------------------------------------
    def received(self) -> None:
        self.recorder.received()

    def analysed(self, faces: list, server_ms: float) -> bool:
        """Count an answered frame; True when a stored session is due to be saved (``save``), at most
        every FER_LIVE_FLUSH_SECONDS: never a write per frame."""
        self.recorder.analysed(self.clock(), faces, server_ms)
        return self.row is not None and self.clock() - self.last_saved >= settings.FER_LIVE_FLUSH_SECONDS

    # --- writes (off the event loop) ---------------------------------------------------------------
    def save(self) -> None:
        for name, value in self.recorder.fields().items():
            setattr(self.row, name, value)
        self.last_saved = self.clock()
        self.row.save()

    def finish(self, client: Optional[dict] = None) -> dict:
        """End the session: a stored one gets its end, what the browser measured (``client``: its
        round trip and dropped frames, when plausible) and a last save. Returns the "stopped" reply's
        fields."""
        if self.row is not None:
            self.row.ended_at = self.now()
            if isinstance(client, dict):
                self.row.client_rtt_ms = plausible(client.get("rtt_ms"), 0, 60_000)
                dropped = plausible(client.get("dropped"), 0, 10**9)
                self.row.client_dropped = int(dropped) if dropped is not None else None
            self.save()
        fields = self.recorder.fields()
        return {"session": self.id, "stored": self.row is not None,
                "summary": {k: fields[k] for k in SUMMARY_FIELDS}}


def plausible(value, low: float, high: float) -> Optional[float]:
    """A number the browser reported, if it is a plausible one."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and low <= value <= high:
        return float(value)
    return None
