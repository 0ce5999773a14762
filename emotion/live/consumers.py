"""The live WebSocket at /ws/live/: camera frames in, smoothed emotions out.

Protocol (every text message is one JSON object with a "type"):

Binary message from the browser
    One camera frame, JPEG (PNG and WebP work too), at most FER_LIVE_MAX_FRAME_BYTES bytes and
    FER_LIVE_MAX_FRAME_PIXELS pixels. Frames are numbered from 0 on each connection, binary messages
    only: that number is the ``seq`` of the one reply each frame gets.

Replies from the server
    {"type": "hello", "model": str, "emotions": [7 names], "server": host name, "limits": {...,
     "per_address": {...}}}   on connect. ``server``: which web host answers (FER_SERVER_NAME);
        ``limits``: LiveLimits.for_clients() (limits.py), the one place a client learns them: the page
        paces its frames and sizes them by these; ``emotions``: the keys of every face's ``probs``, in
        the model's order (the page has the same list, with colours, from its template).
    {"type": "result", "seq": n, "faces": [face, ...], "server_ms": ms}
        ``server_ms`` runs from the frame's arrival to the reply. Each face is FaceResult.to_dict()
        (emotion/ml/results.py): {"id", "box": [x, y, w, h], "probs": {emotion: p}, "dominant", "top",
        "source": "detected" | "tracked", "face_size": px, "sharpness", "brightness", "noise",
        "confidence", "reliable": bool}, and nothing else: a face has no "frame" or "time" of its own
        (those are a video's), as the reply's ``seq`` names the frame. ``dominant`` is the label shown
        (held through near ties, labelling.py), ``top`` the most probable emotion of ``probs``;
        ``reliable`` is the rule of emotion/ml/quality.py. An unreliable face is still sent: the page draws it grey.
    {"type": "started", "session": id | null, "store": bool, "link": path}
        ``link`` (a stored session only, absent otherwise) is the session's private link,
        /live/s/<id>/<key>/: it lets whoever holds it view, export and delete the session, signed in
        or not. Only the key's hash is stored, so this is the one time it is ever sent (access.py).
    {"type": "stopped", "session": id | null, "stored": bool, "summary": {"frames_received",
     "frames_analysed", "frames_with_faces", "frames_reliable", "avg_fps", "avg_latency_ms",
     "emotion_share"}}   (sessions.SUMMARY_FIELDS)
        ``emotion_share`` counts only the frames whose followed (largest) face is reliable.
    {"type": "reset"}
    {"type": "error", "seq": n | null, "code": str, "message": str}
        ``seq`` is the frame the error answers, null for a text command. Codes: too_large,
        rate_limited, busy (more frames than FER_LIVE_QUEUE waiting: send one at a time), bad_image,
        bad_command, unknown_command, not_started, store_limit, internal. The connection stays open,
        except after too_many_connections (closed with code 4429).

Limits per client (an address, or a signed-in user; admission.py, guards.ClientLimits, emotion/web/throttle.py)
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

This consumer only routes: admission.py lets messages in (or says why not), jobs.py runs them in
order, inference.py analyses frames in a thread pool, sessions.py keeps and stores sessions.
Nothing here needs Redis: the socket joins no channel layer (nothing is ever sent to it), and the
stored-session count, kept in Redis to be shared by every daphne process, is kept in this process
while Redis is down.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Optional

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from emotion.ml import EMOTIONS
from emotion.ml.media import MediaError

from emotion.web import metrics
from emotion.web.logcontext import set_about
from emotion.web.throttle import client_key

from .admission import CLOSE_TOO_MANY, Admission, Refusal
from .inference import ConnectionStream, model_version
from .jobs import Frame, JobQueue
from .limits import LiveLimits
from .sessions import LiveSessionRun

DISCONNECT_WAIT_S = 5        # well under daphne's application close timeout (10 s)


class LiveConsumer(AsyncWebsocketConsumer):
    # No channel layer: nothing is sent to a live socket from outside, and joining one would close it
    # with 1011 whenever Redis is down (channels looks a missing alias up as "none").
    channel_layer_alias = None

    async def connect(self):
        self.closing = False
        self.seq = 0
        self.run: Optional[LiveSessionRun] = None
        self.stream = ConnectionStream()
        user = self.scope.get("user")
        self.user = user if user is not None and user.is_authenticated else None
        client = f"user:{self.user.pk}" if self.user else client_key((self.scope.get("client") or [None])[0])
        self.limits = LiveLimits.from_settings()
        self.gate = Admission(client, self.limits)
        self.jobs = JobQueue(self.limits.queue, frame_done=self.gate.frame_done)
        await self.accept()
        refusal = self.gate.open()
        if refusal:
            await self.error(None, refusal)
            return await self.close(code=CLOSE_TOO_MANY)
        metrics.LIVE_SOCKETS.inc()
        self.version = await model_version()
        await self.send_json({"type": "hello", "model": self.version, "emotions": list(EMOTIONS),
                              "server": settings.FER_SERVER_NAME, "limits": self.limits.for_clients()})
        self.jobs.start(self.handle, self.failed)

    async def disconnect(self, code):
        self.closing = True
        try:
            await self.jobs.finish(DISCONNECT_WAIT_S)
            # Shielded: if daphne cancels this handler, the final save still completes.
            await asyncio.shield(self._end_run())
        finally:
            if self.gate.has_slot:            # frames never analysed give their turns back too
                metrics.LIVE_SOCKETS.dec()
                self.gate.close(self.jobs.pending)

    # --- incoming: checked on arrival, then queued ---------------------------------------------------
    async def receive(self, text_data=None, bytes_data=None):
        if bytes_data is not None:
            seq = self.seq
            self.seq += 1
            if self.run:
                self.run.received()
            refusal = self.gate.frame(seq, len(bytes_data), self.jobs.pending)
            if refusal:
                return await self.error(seq, refusal)
            self.jobs.put_frame(Frame(seq, bytes_data, time.perf_counter()))
            return
        try:
            cmd = self.gate.command(text_data or "", self.jobs.waiting, self.jobs.max_jobs)
        except Refusal as refusal:
            return await self.error(None, refusal)
        self.jobs.put_command(cmd)

    # --- the jobs, one at a time (jobs.py) -------------------------------------------------------------
    async def handle(self, job):
        if isinstance(job, Frame):
            return await self.analyse(job)
        kind = job.cmd["type"]
        if kind == "reset":
            self.stream.reset()
            return await self.send_json({"type": "reset"})
        if kind == "start":
            return await self.start(job.cmd.get("store", False))
        if self.run is None:
            return await self.error(None, Refusal("not_started", "stop: no session is running"))
        client = job.cmd.get("client")
        await self.send_json({"type": "stopped", **await self._end_run(client)})

    async def failed(self, job):
        await self.error(job.seq if isinstance(job, Frame) else None, Refusal.internal())

    async def analyse(self, frame: Frame):
        try:
            faces = await self.stream.analyse(frame.data, frame.arrival)
        except MediaError as exc:
            return await self.error(frame.seq, Refusal("bad_image", f"frame {frame.seq}: {exc}"))
        server_ms = (time.perf_counter() - frame.arrival) * 1000
        await self.send_json({"type": "result", "seq": frame.seq, "faces": faces, "server_ms": round(server_ms, 2)})
        metrics.live_frame("result", server_ms / 1000)
        if self.run and self.run.analysed(faces, server_ms):
            await database_sync_to_async(self.run.save)()

    async def start(self, store: bool):
        await self._end_run()
        self.stream.reset()
        self.run, link, refusal = LiveSessionRun(), None, None
        if store:
            refusal = await sync_to_async(self.gate.store)()
            if not refusal:
                link = await database_sync_to_async(self.run.store)(self.user, self.version)
                set_about(live_session=self.run.id)     # this socket's log lines name it
        await self.send_json({"type": "started", "session": self.run.id, "store": link is not None,
                              **({"link": link} if link else {})})
        if refusal:
            await self.error(None, refusal)

    async def _end_run(self, client: Optional[dict] = None) -> dict:
        """End the running session, if any (its final write when stored); its "stopped" fields."""
        run, self.run = self.run, None
        if run is None:
            return {}
        if run.row is None:
            return run.finish(client)
        return await database_sync_to_async(run.finish)(client)

    # --- outgoing ------------------------------------------------------------------------------------
    async def send_json(self, payload: dict):
        if not self.closing:
            await self.send(text_data=json.dumps(payload))

    async def error(self, seq: Optional[int], refusal: Refusal):
        metrics.live_frame("busy" if refusal.code == "busy" else "error")
        if refusal.code != "busy":
            metrics.live_error(refusal.code)
        await self.send_json(refusal.reply(seq))
