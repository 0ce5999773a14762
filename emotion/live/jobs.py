"""A connection's work (a live one's or a remote session's), one job at a time in arrival order:
frames and the commands between them.

Frames: the page keeps one frame in flight and drops the camera's later frames until its reply comes
(static/live/live.js), so what comes back is never more than a frame late. Here a connection may hold
at most ``max_frames`` frames waiting or being analysed; past that, admission.py refuses a frame as
"busy" rather than queue it. Commands take their turn behind the frames received before them, so a
"stop" counts every frame sent before it; at most ``max_commands`` more jobs than frames may wait.

The queue runs its own worker task (``start``) and needs no socket: a consumer gives it the handler of
a job and the handler of a job that failed; it may queue a subclass of ``Frame`` carrying more about
its frame (a remote session's stimulus time). ``finish`` drops the frames still waiting, lets the job
in progress end (within a time limit) and stops the worker.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Awaitable, Callable, Optional, Union

log = logging.getLogger(__name__)


@dataclass
class Frame:
    seq: int                 # the frame's number on its connection (its reply's seq)
    data: bytes
    arrival: float           # perf_counter seconds at its arrival: the reply's server_ms runs from here


@dataclass
class Command:
    cmd: dict


Job = Union[Frame, Command]
_STOP = object()
MAX_QUEUED_COMMANDS = 10      # jobs that may wait beyond a connection's frames


class JobQueue:
    def __init__(self, max_frames: int, max_commands: int = MAX_QUEUED_COMMANDS,
                 frame_done: Callable[[], None] = lambda: None):
        self.max_frames, self.max_jobs = max_frames, max_frames + max_commands
        self.frame_done = frame_done          # told when an admitted frame's job ends, however it ends
        self.pending = 0                      # frames admitted and not yet done: waiting or being analysed
        self._jobs: asyncio.Queue = asyncio.Queue()
        self._worker: Optional[asyncio.Task] = None

    @property
    def waiting(self) -> int:
        """Jobs not yet started, frames and commands."""
        return self._jobs.qsize()

    def put_frame(self, frame: Frame) -> None:
        """An admitted frame (admission.Admission.frame saw ``pending`` first)."""
        self.pending += 1
        self._jobs.put_nowait(frame)

    def put_command(self, cmd: dict) -> None:
        self._jobs.put_nowait(Command(cmd))

    def start(self, handle: Callable[[Job], Awaitable[None]], failed: Callable[[Job], Awaitable[None]]) -> None:
        """Run the jobs in order with ``handle``; a job that raises goes to ``failed`` and the next runs:
        one bad job must not end the connection."""
        self._worker = asyncio.ensure_future(self._run(handle, failed))

    async def _run(self, handle, failed) -> None:
        while True:
            job = await self._jobs.get()
            if job is _STOP:
                return
            try:
                try:
                    await handle(job)
                finally:
                    if isinstance(job, Frame):      # counts until its analysis ends, as FER_LIVE_QUEUE says
                        self.pending -= 1
                        self.frame_done()
            except Exception:
                log.exception("a connection's job failed")
                await failed(job)

    async def finish(self, wait_s: float) -> None:
        """Drop the frames still waiting (they stay in ``pending``: they were never analysed), let the job
        in progress end, then stop. A worker still busy after ``wait_s`` seconds is cancelled."""
        if self._worker is None:
            return
        while not self._jobs.empty():
            self._jobs.get_nowait()
        self._jobs.put_nowait(_STOP)
        try:
            # shielded: a caller cancelled while waiting must not cancel the job half way
            await asyncio.wait_for(asyncio.shield(self._worker), timeout=wait_s)
        except asyncio.TimeoutError:
            log.warning("a connection's worker did not finish within %s s of a disconnect", wait_s)
            self._worker.cancel()
