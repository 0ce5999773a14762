"""One participant's remote session on one connection, without its socket: check -> playing -> done
or withdrawn, each analysed frame's followed face kept at its stimulus time, the gaps, the writes.

sessions/consumer.py hands it one job at a time, in arrival order (emotion/live/jobs.py), so a pause
sent after a frame comes after it. Replies go out through the ``send`` it is given; what cannot be
done raises emotion.live.admission.Refusal, which the consumer sends as the error answering the
message. The messages are described in sessions/protocol.py.
"""

from __future__ import annotations

import time
from typing import Awaitable, Callable, Optional

from channels.db import database_sync_to_async

from emotion.live.admission import Refusal
from emotion.live.inference import ConnectionStream
from emotion.ml.media import MediaError

from . import camera_check
from . import recording_store as store
from .protocol import TimedFrame

TIME_SLACK = 1.0             # seconds past the stimulus' end a player may still report
FLUSH_SECONDS, FLUSH_ROWS = 2.0, 50


class RemoteSession:
    def __init__(self, link, model_version: str, send: Callable[[dict], Awaitable[None]]):
        self.link, self.model_version, self.send = link, model_version, send
        self.stream = ConnectionStream()
        self.state = "check"                 # -> playing -> done | withdrawn
        self.code: Optional[str] = None
        self.recording_id: Optional[int] = None
        self.conn = ""
        self.paused: Optional[dict] = None   # {"start", "reason"} while the player stands still
        self.last_stored = -1.0              # stimulus time of the last stored frame
        self.last_seen = 0.0                 # ... of the last frame received while playing
        self.rows, self.gaps, self.received, self.analysed = [], [], 0, 0
        self.frames_seen = False
        self.last_flush = time.monotonic()

    async def connection_lost(self):
        """What this connection held is kept; the rest of the stimulus is a gap until a rejoin."""
        if self.state != "playing":
            return
        await self._flush()
        start = self.paused["start"] if self.paused else self.last_seen
        reason = self.paused["reason"] if self.paused else "connection"
        await database_sync_to_async(store.connection_lost)(self.recording_id, self.conn, start, reason)

    # --- frames --------------------------------------------------------------------------------------
    async def frame(self, frame: TimedFrame):
        seq, t = frame.seq, frame.t
        if self.state == "check":
            if not self.link.usable():
                raise store.used_up()
            return await self.send(camera_check.reply(seq, await self._analyse(frame)))
        if self.state != "playing":
            raise Refusal("bad_state", f"frame {seq}: the session is {self.state}; no frame is stored now")
        if not 0 <= t <= self.link.stimulus.duration + TIME_SLACK:
            raise Refusal("bad_frame", f"frame {seq}: time {t:g} s is outside the stimulus "
                                       f"(0-{self.link.stimulus.duration:g} s)")
        self.received += 1
        if self.paused:
            return await self.send({"type": "frame", "seq": seq, "t": t, "stored": False, "reason": "paused"})
        self.last_seen = t
        faces = await self._analyse(frame)
        self.analysed += 1
        row = store.frame(self.recording_id, t, faces) if t > self.last_stored else None
        if row is not None:
            self.rows.append(row)
            self.last_stored, self.frames_seen = t, True
        await self.send({"type": "frame", "seq": seq, "t": t, "face": bool(faces), "stored": row is not None,
                         "reliable": None if row is None else row.reliable,
                         "server_ms": round((time.perf_counter() - frame.arrival) * 1000, 2)})
        if len(self.rows) >= FLUSH_ROWS or time.monotonic() - self.last_flush >= FLUSH_SECONDS:
            await self._flush()

    async def _analyse(self, frame: TimedFrame):
        try:
            return await self.stream.analyse(frame.data, frame.arrival)
        except MediaError as exc:
            raise Refusal("bad_image", f"frame {frame.seq}: {exc}") from None

    # --- commands ------------------------------------------------------------------------------------
    async def command(self, cmd: dict):
        kind = cmd["type"]
        if kind == "withdraw":
            return await self._withdraw()
        wanted = "check" if kind in ("code", "play", "rejoin") else "playing"
        if self.state != wanted:
            raise Refusal("bad_state", f"{kind}: not now, the session is {self.state}")
        await getattr(self, f"_{kind}")(cmd)

    async def _code(self, cmd):
        if self.link.participant_id is not None:
            raise Refusal("bad_command", "this link is for one participant: it needs no code")
        self.code = await database_sync_to_async(store.check_code)(self.link, cmd.get("code", ""))
        await self.send({"type": "code", "ok": True})

    async def _play(self, cmd):
        if self.link.participant_id is None and not self.code:
            raise Refusal("no_code", "play: send your participant code first")
        rec = await database_sync_to_async(store.start)(self.link, self.code, self.model_version)
        await self._begin(rec.pk, -1.0)
        await self.send({"type": "playing", "recording": rec.pk, "token": store.rejoin_token(rec)})

    async def _rejoin(self, cmd):
        rec, last = await database_sync_to_async(store.rejoin)(cmd.get("token", ""), self.link, cmd["lost_at"],
                                                               cmd["t"])
        await self._begin(rec.pk, last)
        await self.send({"type": "playing", "recording": rec.pk, "token": cmd["token"], "rejoined": True})

    async def _begin(self, recording_id: int, last_stored: float):
        self.recording_id, self.last_stored, self.state = recording_id, last_stored, "playing"
        self.conn = await database_sync_to_async(store.claim_connection)(recording_id)
        self.stream.reset()                        # the check's faces must not smooth into the data

    async def _pause(self, cmd):
        if self.paused is None:
            self.paused = {"start": cmd["t"], "reason": cmd.get("reason", "pause")}
        await self._flush()
        await self.send({"type": "paused", "t": cmd["t"]})

    async def _resume(self, cmd):
        self._close_pause(cmd["t"])
        await self.send({"type": "resumed", "t": cmd["t"]})

    def _close_pause(self, t: float):
        if self.paused is not None:
            self.gaps.append(store.gap(self.paused["start"], t, self.paused["reason"]))
            self.paused = None

    async def _seek(self, cmd):
        # forward: what was skipped is a gap; back: the break is marked where it happened, and the
        # moments shown again are not stored twice (last_stored)
        self.gaps.append(store.gap(cmd["from"], max(cmd["from"], cmd["to"]), "seek"))
        await self.send({"type": "seeked", "from": cmd["from"], "to": cmd["to"]})

    async def _end(self, cmd):
        self._close_pause(cmd["t"])
        await self._flush()
        self.state = "done"
        rec = await database_sync_to_async(store.finish)(self.recording_id)
        frames = await database_sync_to_async(rec.frames.count)()
        await self.send({"type": "done", "recording": rec.pk, "frames": frames, "gaps": rec.gaps})

    async def _withdraw(self):
        returned = False
        if self.recording_id is not None:
            self.rows, self.gaps = [], []          # never written now
            returned = await database_sync_to_async(store.withdraw)(self.recording_id, self.frames_seen)
        self.state, self.recording_id = "withdrawn", None
        await self.send({"type": "withdrawn", "use_returned": returned})

    async def _flush(self):
        if self.recording_id is None or not (self.rows or self.gaps or self.received or self.analysed):
            return
        rows, gaps, received, analysed = self.rows, self.gaps, self.received, self.analysed
        self.rows, self.gaps, self.received, self.analysed = [], [], 0, 0
        self.last_flush = time.monotonic()
        await database_sync_to_async(store.flush)(self.recording_id, rows, received, analysed, gaps)
