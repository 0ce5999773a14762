"""The live WebSocket at /ws/live/: camera frames in, smoothed emotions out.

Protocol (every text message is one JSON object with a "type"):

Binary message from the browser
    One camera frame, JPEG (PNG and WebP work too), at most FER_LIVE_MAX_FRAME_BYTES bytes and
    FER_LIVE_MAX_FRAME_PIXELS pixels. Frames are numbered from 0 on each connection, binary messages
    only: that number is the ``seq`` of the one reply each frame gets.

Replies from the server
    {"type": "hello", "model": str, "emotions": [7 names], "server": host name, "limits": {...,
     "per_address": {...}}}   on connect (server: which web host answers, FER_SERVER_NAME)
    {"type": "result", "seq": n, "faces": [face, ...], "server_ms": ms}
        ``server_ms`` runs from the frame's arrival to the reply. Each face is FaceResult.to_dict()
        (emotion/ml/results.py): {"id", "box": [x, y, w, h], "probs": {emotion: p}, "dominant", "top",
        "source": "detected" | "tracked", "face_size": px, "sharpness", "brightness", "noise",
        "confidence", "reliable": bool}. ``dominant`` is the label shown (held through near ties,
        labelling.py), ``top`` the most probable emotion of ``probs``; ``reliable`` is
        the rule of emotion/ml/quality.py. An unreliable face is still sent: the page draws it grey.
    {"type": "started", "session": id | null, "store": bool, "link": path}
        ``link`` (a stored session only, absent otherwise) is the session's private link,
        /live/s/<id>/<key>/: it lets whoever holds it view, export and delete the session, signed in
        or not. Only the key's hash is stored, so this is the one time it is ever sent (access.py).
    {"type": "stopped", "session": id | null, "stored": bool, "summary": {"frames_received",
     "frames_analysed", "frames_with_faces", "avg_fps", "avg_latency_ms", "emotion_share"}}
        ``emotion_share`` counts only the frames whose followed (largest) face is reliable.
    {"type": "reset"}
    {"type": "error", "seq": n | null, "code": str, "message": str}
        ``seq`` is the frame the error answers, null for a text command. Codes: too_large,
        rate_limited, busy (more frames than FER_LIVE_QUEUE waiting: send one at a time), bad_image,
        bad_command, unknown_command, not_started, store_limit, internal. The connection stays open,
        except after too_many_connections (closed with code 4429).

Limits per client (an address, or a signed-in user; guards.ClientLimits, fersite/throttle.py)
    Besides the per-connection limits above, a client has at most FER_LIVE_MAX_SOCKETS_PER_IP
    sockets open (one more is answered too_many_connections and closed with 4429), sends at most
    FER_LIVE_MAX_FPS_PER_IP frames a second over all of them (rate_limited) with at most
    FER_LIVE_MAX_BUSY_PER_IP of them waiting or being analysed at once (busy), and stores at most
    FER_LIVE_MAX_STORED_PER_IP_HOUR sessions an hour: past that, "start" with store=true gets
    "started" with store=false, then a store_limit error saying when it may store again.

Text commands from the browser
    {"type": "start", "store": bool}   begin a session with fresh face tracks; store=true is the
                                        visitor's consent to keep its statistics (never frames)
    {"type": "stop", "client": {"rtt_ms": ms, "dropped": n}}   end it; "client" (optional) adds
                                        what the browser measured to the stored session
    {"type": "reset"}                   forget tracked faces and their LSTM state

Frames need no "start" first; they are then analysed but never stored. Commands take their turn
behind the frames already received, so "stop" counts every frame sent before it.

Nothing here needs Redis: the socket joins no channel layer (nothing is ever sent to it), and the
stored-session count, kept in Redis to be shared by every daphne process, is kept in this process
while Redis is down.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Optional

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import timezone

from emotion.ml import EMOTIONS
from emotion.ml.media import MediaError

from fersite import metrics
from fersite.logcontext import set_about
from fersite.throttle import Window, client_key

from . import access, inference
from .guards import ClientLimits, TokenBucket
from .models import LiveSession
from .recorder import SessionRecorder

log = logging.getLogger(__name__)
MAX_COMMAND_CHARS = 4096
COMMANDS_PER_SECOND, COMMAND_BURST = 2.0, 10
MAX_QUEUED_COMMANDS = 10
MAX_SESSIONS_PER_CONNECTION = 100
DISCONNECT_WAIT_S = 5        # well under daphne's application close timeout (10 s)
CLOSE_TOO_MANY = 4429
_STOP = object()
CLIENTS = ClientLimits()     # every live socket of this process
STORED = Window("live-stored", lambda: settings.FER_LIVE_MAX_STORED_PER_IP_HOUR, 3600)


class CommandError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


class LiveConsumer(AsyncWebsocketConsumer):
    # No channel layer: nothing is sent to a live socket from outside, and joining one would close it
    # with 1011 whenever Redis is down (channels looks a missing alias up as "none").
    channel_layer_alias = None

    async def connect(self):
        self.has_slot = False
        self.seq = 0
        self.pending_frames = 0
        self.closing = False
        self.bucket = TokenBucket(settings.FER_LIVE_MAX_FPS, settings.FER_LIVE_BURST)
        # Commands are cheap to send and some write to the database: their own, stricter budget.
        self.command_bucket = TokenBucket(COMMANDS_PER_SECOND, COMMAND_BURST)
        self.sessions_started = 0
        self.jobs: asyncio.Queue = asyncio.Queue()
        self.stream = None
        self.recorder: Optional[SessionRecorder] = None
        self.session: Optional[LiveSession] = None
        self.last_flush = 0.0
        user = self.scope.get("user")
        self.user = user if user is not None and user.is_authenticated else None
        address = (self.scope.get("client") or [None])[0]
        self.client = f"user:{self.user.pk}" if self.user else client_key(address)
        await self.accept()
        cap = settings.FER_LIVE_MAX_SOCKETS_PER_IP
        if not CLIENTS.open(self.client, cap, settings.FER_LIVE_MAX_FPS_PER_IP):
            await self.error(None, "too_many_connections", f"{cap} live connections are already open from your "
                                                           "address; close one (another tab?) and try again")
            return await self.close(code=CLOSE_TOO_MANY)
        self.has_slot = True
        metrics.LIVE_SOCKETS.inc()
        await self.send_json({"type": "hello", "model": await self._model_version(), "emotions": list(EMOTIONS),
                              "server": settings.FER_SERVER_NAME,
                              "limits": {"max_frame_bytes": settings.FER_LIVE_MAX_FRAME_BYTES,
                                         "max_frame_pixels": settings.FER_LIVE_MAX_FRAME_PIXELS,
                                         "max_fps": settings.FER_LIVE_MAX_FPS, "queue": settings.FER_LIVE_QUEUE,
                                         "per_address": {"sockets": cap, "max_fps": settings.FER_LIVE_MAX_FPS_PER_IP,
                                                         "busy": settings.FER_LIVE_MAX_BUSY_PER_IP,
                                                         "stored_per_hour":
                                                             settings.FER_LIVE_MAX_STORED_PER_IP_HOUR}}})
        self.worker = asyncio.ensure_future(self._work())

    async def disconnect(self, code):
        self.closing = True
        try:
            await self._stop_worker()
        finally:
            if getattr(self, "has_slot", False):      # frames never analysed give their turns back too
                self.has_slot = False
                metrics.LIVE_SOCKETS.dec()
                CLIENTS.close(self.client, self.pending_frames)

    async def _stop_worker(self):
        if not hasattr(self, "worker"):
            return
        # Frames still waiting are dropped; the one being analysed finishes, then the session is saved.
        while not self.jobs.empty():
            self.jobs.get_nowait()
        self.jobs.put_nowait(_STOP)
        try:
            await asyncio.wait_for(asyncio.shield(self.worker), timeout=DISCONNECT_WAIT_S)
        except asyncio.TimeoutError:
            log.warning("live worker did not finish within %s s of a disconnect", DISCONNECT_WAIT_S)
            self.worker.cancel()
        # Shielded: if daphne cancels this handler, the final save still completes.
        await asyncio.shield(self._finish())

    # --- incoming ------------------------------------------------------------------------------------
    async def receive(self, text_data=None, bytes_data=None):
        if bytes_data is not None:
            await self._receive_frame(bytes_data)
        else:
            await self._receive_command(text_data or "")

    async def _receive_frame(self, data: bytes):
        """Checks that cost nothing run here, at arrival; the frame itself waits for the worker."""
        seq, arrival = self.seq, time.perf_counter()
        self.seq += 1
        if self.recorder:
            self.recorder.received()
        limit = settings.FER_LIVE_MAX_FRAME_BYTES
        if len(data) > limit:
            return await self.error(seq, "too_large", f"frame {seq}: {len(data):,} bytes is over the limit of "
                                                      f"{limit:,} bytes; send a smaller or more compressed frame")
        if not self.bucket.take():
            return await self.error(seq, "rate_limited", f"frame {seq}: more than {settings.FER_LIVE_MAX_FPS:g} "
                                                         "frames/s; frame dropped")
        if not CLIENTS.take_frame(self.client):
            return await self.error(seq, "rate_limited", f"frame {seq}: more than "
                                                         f"{settings.FER_LIVE_MAX_FPS_PER_IP:g} frames/s from your "
                                                         "address over all its connections; frame dropped")
        if self.pending_frames >= settings.FER_LIVE_QUEUE:
            return await self.error(seq, "busy", f"frame {seq}: {self.pending_frames} frames are already "
                                                 "waiting; frame dropped (wait for a reply before sending more)")
        if not CLIENTS.start_frame(self.client, settings.FER_LIVE_MAX_BUSY_PER_IP):
            return await self.error(seq, "busy", f"frame {seq}: {settings.FER_LIVE_MAX_BUSY_PER_IP} frames from "
                                                 "your address are already waiting or being analysed; frame "
                                                 "dropped")
        self.pending_frames += 1
        self.jobs.put_nowait(("frame", seq, data, arrival))

    async def _receive_command(self, text: str):
        try:
            if len(text) > MAX_COMMAND_CHARS:
                raise CommandError("bad_command", f"commands are at most {MAX_COMMAND_CHARS} characters")
            try:
                cmd = json.loads(text)
            except ValueError:
                raise CommandError("bad_command", "a text message must be a JSON object such as "
                                                  '{"type": "start", "store": false}') from None
            if not isinstance(cmd, dict) or not isinstance(cmd.get("type"), str):
                raise CommandError("bad_command", 'a command is a JSON object with a "type" string')
            if cmd["type"] not in ("start", "stop", "reset"):
                raise CommandError("unknown_command", f"unknown command {cmd['type'][:40]!r}; "
                                                      "expected start, stop or reset")
            if cmd["type"] == "start" and not isinstance(cmd.get("store", False), bool):
                raise CommandError("bad_command", '"store" must be true or false')
            if not self.command_bucket.take() or self.jobs.qsize() >= settings.FER_LIVE_QUEUE + MAX_QUEUED_COMMANDS:
                raise CommandError("rate_limited", f"too many commands; at most {COMMANDS_PER_SECOND:g} a second")
            if cmd["type"] == "start":
                self.sessions_started += 1
                if self.sessions_started > MAX_SESSIONS_PER_CONNECTION:
                    raise CommandError("bad_command", f"at most {MAX_SESSIONS_PER_CONNECTION} sessions per "
                                                      "connection; reconnect to start another")
        except CommandError as exc:
            return await self.error(None, exc.code, str(exc))
        self.jobs.put_nowait(("command", cmd))

    # --- the worker: frames and commands in arrival order, one at a time -------------------------------
    async def _work(self):
        loop = asyncio.get_running_loop()
        while True:
            job = await self.jobs.get()
            if job is _STOP:
                return
            try:
                if job[0] == "frame":
                    try:
                        await self._analyse(loop, *job[1:])
                    finally:                       # counts until its analysis ends, as the setting says
                        self.pending_frames -= 1
                        if self.has_slot:          # else the disconnect gave it back already
                            CLIENTS.end_frame(self.client)
                else:
                    await self._command(loop, job[1])
            except Exception:                      # one bad job must not end the connection
                log.exception("live job failed")
                await self.error(job[1] if job[0] == "frame" else None, "internal",
                                 "the server failed on this message; it has been logged")

    async def _analyse(self, loop, seq: int, data: bytes, arrival: float):
        pool = inference.executor()
        if self.stream is None:
            self.stream = await loop.run_in_executor(pool, inference.new_stream)
        try:
            faces = await loop.run_in_executor(pool, inference.analyse, self.stream, data, arrival)
        except MediaError as exc:
            return await self.error(seq, "bad_image", f"frame {seq}: {exc}")
        server_ms = (time.perf_counter() - arrival) * 1000
        await self.send_json({"type": "result", "seq": seq, "faces": faces, "server_ms": round(server_ms, 2)})
        metrics.live_frame("result", server_ms / 1000)
        if self.recorder:
            self.recorder.analysed(time.monotonic(), faces, server_ms)
            if self.session and time.monotonic() - self.last_flush >= settings.FER_LIVE_FLUSH_SECONDS:
                await self._flush()

    async def _command(self, loop, cmd: dict):
        kind = cmd["type"]
        if kind == "reset":
            if self.stream is not None:
                self.stream.reset()
            return await self.send_json({"type": "reset"})
        if kind == "start":
            await self._finish()
            if self.stream is not None:
                self.stream.reset()
            self.recorder = SessionRecorder(time.monotonic(), settings.FER_LIVE_TIMELINE_STEP,
                                            settings.FER_LIVE_TIMELINE_POINTS)
            wait, link = 0, None
            if cmd.get("store", False):
                wait = await sync_to_async(_store_wait)(self.client)
                if not wait:
                    key = access.new_key()        # only its hash is kept: this reply is its one showing
                    self.session = await database_sync_to_async(LiveSession.objects.create)(
                        user=self.user, started_at=timezone.now(), model_version=await self._model_version(),
                        access_key_hash=access.key_hash(key))
                    link = access.private_path(self.session.pk, key)
                    set_about(live_session=self.session.pk)     # this socket's log lines name it
                    self.last_flush = time.monotonic()
            await self.send_json({"type": "started", "session": self.session.pk if self.session else None,
                                  "store": self.session is not None, **({"link": link} if link else {})})
            if wait:
                await self.error(None, "store_limit", f"{settings.FER_LIVE_MAX_STORED_PER_IP_HOUR} sessions were "
                                                      "stored from your address in the last hour; this one runs "
                                                      f"but is not stored (storing again in {_minutes(wait)})")
            return
        # stop
        if self.recorder is None:
            return await self.error(None, "not_started", "stop: no session is running")
        client = cmd.get("client")
        summary = await self._finish(client if isinstance(client, dict) else None)
        await self.send_json({"type": "stopped", **summary})

    # --- storage ---------------------------------------------------------------------------------------
    async def _finish(self, client: Optional[dict] = None) -> dict:
        """End the running session, if any: final write when it is stored. Returns its summary."""
        recorder, session = self.recorder, self.session
        self.recorder = self.session = None
        if recorder is None:
            return {}
        fields = recorder.fields()
        if session is not None:
            session.ended_at = timezone.now()
            if client:
                session.client_rtt_ms = _number(client.get("rtt_ms"), 0, 60_000)
                dropped = _number(client.get("dropped"), 0, 10**9)
                session.client_dropped = int(dropped) if dropped is not None else None
            await self._flush(session, recorder)
        summary = {k: fields[k] for k in ("frames_received", "frames_analysed", "frames_with_faces",
                                          "frames_reliable", "avg_fps",
                                          "avg_latency_ms", "emotion_share")}
        return {"session": session.pk if session else None, "stored": session is not None, "summary": summary}

    async def _flush(self, session: Optional[LiveSession] = None, recorder: Optional[SessionRecorder] = None):
        session, recorder = session or self.session, recorder or self.recorder
        for name, value in recorder.fields().items():
            setattr(session, name, value)
        self.last_flush = time.monotonic()
        await database_sync_to_async(session.save)()

    # --- outgoing --------------------------------------------------------------------------------------
    async def send_json(self, payload: dict):
        if not self.closing:
            await self.send(text_data=json.dumps(payload))

    async def error(self, seq: Optional[int], code: str, message: str):
        metrics.live_frame("busy" if code == "busy" else "error")
        if code != "busy":
            metrics.live_error(code)
        await self.send_json({"type": "error", "seq": seq, "code": code, "message": message})

    async def _model_version(self) -> str:
        if not hasattr(self, "_version"):
            engine = await asyncio.get_running_loop().run_in_executor(inference.executor(), inference.get_engine)
            self._version = engine.version
        return self._version


def _store_wait(client: str) -> int:
    """0 when the client may store one more session this hour (and counts it), else the seconds to wait."""
    if STORED.hit(client) <= STORED.limit:
        return 0
    return STORED.wait(client)


def _minutes(seconds: int) -> str:
    return f"{seconds} s" if seconds < 90 else f"{-(-seconds // 60)} min"


def _number(value, low: float, high: float) -> Optional[float]:
    """A number the browser reported, if it is a plausible one."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and low <= value <= high:
        return float(value)
    return None
