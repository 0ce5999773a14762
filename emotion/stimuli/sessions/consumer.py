"""A participant's remote session at /ws/stimuli/take/<key>/: camera frames in, each tagged with the
stimulus time the player showed, one stored row per analysed frame of the followed face. The messages
are described in sessions/protocol.py.

This consumer only routes, over the live app's modules, so a remote socket keeps the live one's rules:
limits.py (the limits, sent in hello), admission.py (the socket slots per address, the checks on each
frame and the rate of commands, with their words), jobs.py (frames and commands one at a time in
arrival order), inference.py (the thread pool and the model's version). What a session does with its
frames and commands is sessions/session.py's.

Two things are the remote socket's own: its sockets are counted apart from the live page's (a
participant may have the live page open too), and a player sends more commands than the live page
(pauses, seeks), so they have a rate of their own.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Optional

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.utils import timezone

from emotion.live.admission import CLOSE_TOO_MANY, Admission, Refusal
from emotion.live.guards import ClientLimits
from emotion.live.inference import model_version
from emotion.live.jobs import Frame, JobQueue
from emotion.live.limits import LiveLimits
from emotion.ml import EMOTIONS
from emotion.web.throttle import client_key

from . import links
from .protocol import parse_command, split_frame
from .session import RemoteSession

COMMAND_RATE = (5.0, 20)     # a second's and a burst's
DISCONNECT_WAIT_S = 5
CLOSE_NOT_FOUND = 4404
CLIENTS = ClientLimits()     # every remote-session socket of this process


class RemoteSessionConsumer(AsyncWebsocketConsumer):
    channel_layer_alias = None   # nothing is sent to it from outside (as for the live socket)

    async def connect(self):
        self.closing, self.seq, self.session = False, 0, None
        self.limits = LiveLimits.from_settings()
        self.gate = Admission(client_key((self.scope.get("client") or [None])[0]), self.limits, CLIENTS,
                              command_rate=COMMAND_RATE, what="connections")
        self.jobs = JobQueue(self.limits.queue, frame_done=self.gate.frame_done)
        link = await database_sync_to_async(links.find)(self.scope["url_route"]["kwargs"]["key"])
        await self.accept()
        if link is None or link.expires_at <= timezone.now():
            await self.error(None, Refusal("not_found", "This invitation link is unknown or has expired."))
            return await self.close(code=CLOSE_NOT_FOUND)
        refusal = self.gate.open()
        if refusal:
            await self.error(None, refusal)
            return await self.close(code=CLOSE_TOO_MANY)
        version = await model_version()
        self.session = RemoteSession(link, version, self.send_json)
        stimulus = link.stimulus
        await self.send_json({"type": "hello", "model": version, "emotions": list(EMOTIONS),
                              "needs_code": link.participant_id is None,
                              "stimulus": {"kind": stimulus.kind, "duration": stimulus.duration},
                              "limits": self.limits.for_clients()})
        self.jobs.start(self.handle, self.failed)

    async def disconnect(self, code):
        self.closing = True
        try:
            await self.jobs.finish(DISCONNECT_WAIT_S)
            if self.session is not None:
                # Shielded: if daphne cancels this handler, the gap of the loss is still written.
                await asyncio.shield(self.session.connection_lost())
        finally:
            self.gate.close(self.jobs.pending)     # frames never analysed give their turns back too

    # --- incoming: checked on arrival, then queued ---------------------------------------------------
    async def receive(self, text_data=None, bytes_data=None):
        if bytes_data is not None:
            seq, arrival = self.seq, time.perf_counter()
            self.seq += 1
            try:
                frame = split_frame(seq, bytes_data, arrival)
            except Refusal as refusal:
                return await self.error(seq, refusal)
            refusal = self.gate.frame(seq, len(frame.data), self.jobs.pending)
            if refusal:
                return await self.error(seq, refusal)
            self.jobs.put_frame(frame)
            return
        try:
            cmd = parse_command(text_data or "")
            self.gate.command_turn(self.jobs.waiting, self.jobs.max_jobs)
        except Refusal as refusal:
            return await self.error(None, refusal)
        self.jobs.put_command(cmd)

    # --- the jobs, one at a time (jobs.py) -----------------------------------------------------------
    async def handle(self, job):
        try:
            if isinstance(job, Frame):
                await self.session.frame(job)
            else:
                await self.session.command(job.cmd)
        except Refusal as refusal:
            await self.error(job.seq if isinstance(job, Frame) else None, refusal)

    async def failed(self, job):
        await self.error(job.seq if isinstance(job, Frame) else None, Refusal.internal())

    # --- outgoing ------------------------------------------------------------------------------------
    async def send_json(self, payload: dict):
        if not self.closing:
            await self.send(text_data=json.dumps(payload))

    async def error(self, seq: Optional[int], refusal: Refusal):
        await self.send_json(refusal.reply(seq))
