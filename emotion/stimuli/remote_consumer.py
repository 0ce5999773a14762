"""A participant's remote session at /ws/stimuli/take/<key>/: camera frames in, each tagged with the
stimulus time the player showed, one stored row per analysed frame of the followed face. The messages
are described in remote_protocol.py.

The frames reach the live engine exactly as the live page's do (emotion/live/inference.py: the same
thread pool, size and pixel checks; emotion/live/guards.py: the same per-connection and per-address
limits, read from the FER_LIVE_* settings). Frames and commands take their turns in arrival order, so
a pause sent after a frame comes after it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Optional

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import timezone

from emotion.live import inference
from emotion.live.guards import ClientLimits, TokenBucket
from emotion.ml import EMOTIONS
from emotion.ml.media import MediaError
from emotion.web.throttle import client_key

from . import camera_check, links, recording_store as store
from .remote_protocol import TIME, CommandError, parse_command, split_frame

log = logging.getLogger(__name__)
TIME_SLACK = 1.0             # seconds past the stimulus' end a player may still report
COMMANDS_PER_SECOND, COMMAND_BURST = 5.0, 20
FLUSH_SECONDS, FLUSH_ROWS = 2.0, 50
DISCONNECT_WAIT_S = 5
CLOSE_NOT_FOUND, CLOSE_TOO_MANY = 4404, 4429
_STOP = object()
CLIENTS = ClientLimits()     # every remote-session socket of this process


class RemoteSessionConsumer(AsyncWebsocketConsumer):
    channel_layer_alias = None   # nothing is sent to it from outside (as for the live socket)

    async def connect(self):
        self.has_slot, self.closing, self.seq, self.pending_frames = False, False, 0, 0
        self.jobs: asyncio.Queue = asyncio.Queue()
        self.stream = None
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
        self.bucket = TokenBucket(settings.FER_LIVE_MAX_FPS, settings.FER_LIVE_BURST)
        self.command_bucket = TokenBucket(COMMANDS_PER_SECOND, COMMAND_BURST)
        self.client = client_key((self.scope.get("client") or [None])[0])
        self.link = await database_sync_to_async(links.find)(self.scope["url_route"]["kwargs"]["key"])
        await self.accept()
        if self.link is None or self.link.expires_at <= timezone.now():
            await self.error(None, "not_found", "This invitation link is unknown or has expired.")
            return await self.close(code=CLOSE_NOT_FOUND)
        cap = settings.FER_LIVE_MAX_SOCKETS_PER_IP
        if not CLIENTS.open(self.client, cap, settings.FER_LIVE_MAX_FPS_PER_IP):
            await self.error(None, "too_many_connections", f"{cap} connections are already open from your address; "
                                                           "close another tab and try again")
            return await self.close(code=CLOSE_TOO_MANY)
        self.has_slot = True
        stimulus = self.link.stimulus
        await self.send_json({"type": "hello", "model": await self._model_version(), "emotions": list(EMOTIONS),
                              "needs_code": self.link.participant_id is None,
                              "stimulus": {"kind": stimulus.kind, "duration": stimulus.duration},
                              "limits": {"max_frame_bytes": settings.FER_LIVE_MAX_FRAME_BYTES,
                                         "max_fps": settings.FER_LIVE_MAX_FPS, "queue": settings.FER_LIVE_QUEUE}})
        self.worker = asyncio.ensure_future(self._work())

    async def disconnect(self, code):
        self.closing = True
        if hasattr(self, "worker"):
            while not self.jobs.empty():
                self.jobs.get_nowait()
            self.jobs.put_nowait(_STOP)
            try:
                await asyncio.wait_for(asyncio.shield(self.worker), timeout=DISCONNECT_WAIT_S)
            except asyncio.TimeoutError:
                self.worker.cancel()
            await asyncio.shield(self._connection_lost())
        if self.has_slot:
            self.has_slot = False
            CLIENTS.close(self.client, self.pending_frames)

    async def _connection_lost(self):
        """What this connection held is kept; the rest of the stimulus is a gap until a rejoin."""
        if self.state != "playing":
            return
        await self._flush()
        start = self.paused["start"] if self.paused else self.last_seen
        reason = self.paused["reason"] if self.paused else "connection"
        await database_sync_to_async(store.connection_lost)(self.recording_id, self.conn, start, reason)

    # --- incoming ------------------------------------------------------------------------------------
    async def receive(self, text_data=None, bytes_data=None):
        if bytes_data is not None:
            await self._receive_frame(bytes_data)
        else:
            await self._receive_command(text_data or "")

    async def _receive_frame(self, data: bytes):
        seq, arrival = self.seq, time.perf_counter()
        self.seq += 1
        limit = settings.FER_LIVE_MAX_FRAME_BYTES
        if len(data) > limit + TIME.size:
            return await self.error(seq, "too_large", f"frame {seq}: {len(data):,} bytes is over the limit of "
                                                      f"{limit:,} bytes; send a smaller frame")
        try:
            t, image = split_frame(seq, data)
        except CommandError as exc:
            return await self.error(seq, exc.code, str(exc))
        if not self.bucket.take() or not CLIENTS.take_frame(self.client):
            return await self.error(seq, "rate_limited", f"frame {seq}: more than {settings.FER_LIVE_MAX_FPS:g} "
                                                         "frames/s; frame dropped")
        if self.pending_frames >= settings.FER_LIVE_QUEUE or not CLIENTS.start_frame(
                self.client, settings.FER_LIVE_MAX_BUSY_PER_IP):
            return await self.error(seq, "busy", f"frame {seq}: frames are already waiting; frame dropped (wait "
                                                 "for a reply before sending more)")
        self.pending_frames += 1
        self.jobs.put_nowait(("frame", seq, t, image, arrival))

    async def _receive_command(self, text: str):
        try:
            cmd = parse_command(text)
            if not self.command_bucket.take():
                raise CommandError("rate_limited", f"too many commands; at most {COMMANDS_PER_SECOND:g} a second")
        except CommandError as exc:
            return await self.error(None, exc.code, str(exc))
        self.jobs.put_nowait(("command", cmd))

    # --- the worker: frames and commands in arrival order ------------------------------------------------
    async def _work(self):
        while True:
            job = await self.jobs.get()
            if job is _STOP:
                return
            try:
                if job[0] == "frame":
                    try:
                        await self._frame(*job[1:])
                    finally:
                        self.pending_frames -= 1
                        if self.has_slot:
                            CLIENTS.end_frame(self.client)
                else:
                    await self._command(job[1])
            except CommandError as exc:
                await self.error(job[1] if job[0] == "frame" else None, exc.code, str(exc))
            except store.Refused as exc:
                await self.error(None, exc.code, str(exc))
            except Exception:                      # one bad message must not end the session
                log.exception("remote session job failed")
                await self.error(job[1] if job[0] == "frame" else None, "internal",
                                 "the server failed on this message; it has been logged")

    async def _frame(self, seq: int, t: float, image: bytes, arrival: float):
        if self.state == "check":
            if not self.link.usable():
                raise CommandError("used_up", "This invitation link has expired or has been used already.")
            faces = await self._analyse(seq, image, arrival)
            if faces is not None:
                await self.send_json(camera_check.reply(seq, faces))
            return
        if self.state != "playing":
            raise CommandError("bad_state", f"frame {seq}: the session is {self.state}; no frame is stored now")
        if not 0 <= t <= self.link.stimulus.duration + TIME_SLACK:
            raise CommandError("bad_frame", f"frame {seq}: time {t:g} s is outside the stimulus "
                                            f"(0-{self.link.stimulus.duration:g} s)")
        self.received += 1
        if self.paused:
            return await self.send_json({"type": "frame", "seq": seq, "t": t, "stored": False, "reason": "paused"})
        self.last_seen = t
        faces = await self._analyse(seq, image, arrival)
        if faces is None:
            return
        self.analysed += 1
        row = store.frame(self.recording_id, t, faces) if t > self.last_stored else None
        if row is not None:
            self.rows.append(row)
            self.last_stored, self.frames_seen = t, True
        await self.send_json({"type": "frame", "seq": seq, "t": t, "face": bool(faces), "stored": row is not None,
                              "reliable": None if row is None else row.reliable,
                              "server_ms": round((time.perf_counter() - arrival) * 1000, 2)})
        if len(self.rows) >= FLUSH_ROWS or time.monotonic() - self.last_flush >= FLUSH_SECONDS:
            await self._flush()

    async def _analyse(self, seq: int, image: bytes, arrival: float):
        loop, pool = asyncio.get_running_loop(), inference.executor()
        if self.stream is None:
            self.stream = await loop.run_in_executor(pool, inference.new_stream)
        try:
            return await loop.run_in_executor(pool, inference.analyse, self.stream, image, arrival)
        except MediaError as exc:
            await self.error(seq, "bad_image", f"frame {seq}: {exc}")
            return None

    async def _command(self, cmd: dict):
        kind = cmd["type"]
        if kind == "withdraw":
            return await self._withdraw()
        wanted = "check" if kind in ("code", "play", "rejoin") else "playing"
        if self.state != wanted:
            raise CommandError("bad_state", f"{kind}: not now, the session is {self.state}")
        await getattr(self, f"_{kind}")(cmd)

    async def _code(self, cmd):
        if self.link.participant_id is not None:
            raise CommandError("bad_command", "this link is for one participant: it needs no code")
        self.code = await database_sync_to_async(store.check_code)(self.link, cmd.get("code", ""))
        await self.send_json({"type": "code", "ok": True})

    async def _play(self, cmd):
        if self.link.participant_id is None and not self.code:
            raise CommandError("no_code", "play: send your participant code first")
        rec = await database_sync_to_async(store.start)(self.link, self.code, await self._model_version())
        await self._begin(rec.pk, -1.0)
        await self.send_json({"type": "playing", "recording": rec.pk, "token": store.rejoin_token(rec)})

    async def _rejoin(self, cmd):
        rec, last = await database_sync_to_async(store.rejoin)(cmd.get("token", ""), self.link, cmd["lost_at"],
                                                               cmd["t"])
        await self._begin(rec.pk, last)
        await self.send_json({"type": "playing", "recording": rec.pk, "token": cmd["token"], "rejoined": True})

    async def _begin(self, recording_id: int, last_stored: float):
        self.recording_id, self.last_stored, self.state = recording_id, last_stored, "playing"
        self.conn = await database_sync_to_async(store.claim_connection)(recording_id)
        if self.stream is not None:                # the check's faces must not smooth into the data
            self.stream.reset()

    async def _pause(self, cmd):
        if self.paused is None:
            self.paused = {"start": cmd["t"], "reason": cmd.get("reason", "pause")}
        await self._flush()
        await self.send_json({"type": "paused", "t": cmd["t"]})

    async def _resume(self, cmd):
        self._close_pause(cmd["t"])
        await self.send_json({"type": "resumed", "t": cmd["t"]})

    def _close_pause(self, t: float):
        if self.paused is not None:
            self.gaps.append(store.gap(self.paused["start"], t, self.paused["reason"]))
            self.paused = None

    async def _seek(self, cmd):
        # forward: what was skipped is a gap; back: the break is marked where it happened, and the
        # moments shown again are not stored twice (last_stored)
        self.gaps.append(store.gap(cmd["from"], max(cmd["from"], cmd["to"]), "seek"))
        await self.send_json({"type": "seeked", "from": cmd["from"], "to": cmd["to"]})

    async def _end(self, cmd):
        self._close_pause(cmd["t"])
        await self._flush()
        self.state = "done"
        rec = await database_sync_to_async(store.finish)(self.recording_id)
        frames = await database_sync_to_async(rec.frames.count)()
        await self.send_json({"type": "done", "recording": rec.pk, "frames": frames, "gaps": rec.gaps})

    async def _withdraw(self):
        returned = False
        if self.recording_id is not None:
            self.rows, self.gaps = [], []          # never written now
            returned = await database_sync_to_async(store.withdraw)(self.recording_id, self.frames_seen)
        self.state, self.recording_id = "withdrawn", None
        await self.send_json({"type": "withdrawn", "use_returned": returned})

    async def _flush(self):
        if self.recording_id is None or not (self.rows or self.gaps or self.received or self.analysed):
            return
        rows, gaps, received, analysed = self.rows, self.gaps, self.received, self.analysed
        self.rows, self.gaps, self.received, self.analysed = [], [], 0, 0
        self.last_flush = time.monotonic()
        await database_sync_to_async(store.flush)(self.recording_id, rows, received, analysed, gaps)

    # --- outgoing --------------------------------------------------------------------------------------
    async def send_json(self, payload: dict):
        if not self.closing:
            await self.send(text_data=json.dumps(payload))

    async def error(self, seq: Optional[int], code: str, message: str):
        await self.send_json({"type": "error", "seq": seq, "code": code, "message": message})

    async def _model_version(self) -> str:
        if not hasattr(self, "_version"):
            engine = await asyncio.get_running_loop().run_in_executor(inference.executor(), inference.get_engine)
            self._version = engine.version
        return self._version
