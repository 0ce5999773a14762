"""What may come in on a live connection, and the words of each refusal: the socket itself, each
frame (before any decoding), each text command, and the storing of a session.

No socket here: a consumer asks, gets None or a ``Refusal`` (the protocol's error code and message),
and sends it. The frame and command checks do no I/O and take an injectable clock; only the count of
stored sessions goes to Redis (emotion.web.throttle.Window), so ``store`` is called off the event loop.

A remote session's socket (emotion/stimuli/sessions/consumer.py) keeps these rules too: the same frame
checks and words, its own commands read by ``read_command`` and let in by ``command_turn``.
"""

from __future__ import annotations

import json
import time
from typing import Optional, Sequence, Tuple

from django.conf import settings

from emotion.web.throttle import Window
from emotion.web.refusals import wait_words

from .guards import ClientLimits, TokenBucket
from .limits import LiveLimits

MAX_COMMAND_CHARS = 4096
COMMANDS = ("start", "stop", "reset")
# Commands are cheap to send and some write to the database: their own, stricter budget.
COMMANDS_PER_SECOND, COMMAND_BURST = 2.0, 10
MAX_SESSIONS_PER_CONNECTION = 100
CLOSE_TOO_MANY = 4429                 # the close code after too_many_connections
CLIENTS = ClientLimits()              # every live socket of this process
STORED = Window("live-stored", lambda: settings.FER_LIVE_MAX_STORED_PER_IP_HOUR, 3600)


class Refusal(Exception):
    """Why something was not let in or not done: the error's ``code`` and ``message`` as the protocol
    sends them (``reply``)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message

    @classmethod
    def internal(cls) -> "Refusal":
        """A message the server failed on (a bug): the connection goes on."""
        return cls("internal", "the server failed on this message; it has been logged")

    def reply(self, seq: Optional[int]) -> dict:
        """The error message; ``seq``: the frame it answers, None for a text command."""
        return {"type": "error", "seq": seq, "code": self.code, "message": self.message}


def read_command(text: str, commands: Sequence[str], example: str, max_chars: int = MAX_COMMAND_CHARS) -> dict:
    """A text message as a JSON object whose "type" is one of ``commands``, or a Refusal saying why not
    (``example``: a command of the protocol, shown to a client that sent something else). What each
    command's fields must be is its protocol's to check."""
    if len(text) > max_chars:
        raise Refusal("bad_command", f"commands are at most {max_chars} characters")
    try:
        cmd = json.loads(text)
    except ValueError:
        raise Refusal("bad_command", f"a text message must be a JSON object such as {example}") from None
    if not isinstance(cmd, dict) or not isinstance(cmd.get("type"), str):
        raise Refusal("bad_command", 'a command is a JSON object with a "type" string')
    if cmd["type"] not in commands:
        raise Refusal("unknown_command", f"unknown command {cmd['type'][:40]!r}; expected "
                                         f"{', '.join(commands[:-1])} or {commands[-1]}")
    return cmd


class Admission:
    """One connection's gate, for a ``client`` (an address, or ``user:<id>``; emotion.web.throttle.client_key).
    Its per-client counts are shared with the client's other connections through ``clients``. Another
    socket (a remote session's, emotion/stimuli) passes its own ``clients``, the rate of its commands
    (``command_rate``: a second's and a burst's) and the name of its connections (``what``)."""

    def __init__(self, client: str, limits: LiveLimits, clients: ClientLimits = CLIENTS, clock=time.monotonic,
                 command_rate: Tuple[float, int] = (COMMANDS_PER_SECOND, COMMAND_BURST),
                 what: str = "live connections"):
        self.client, self.limits, self.clients, self.what = client, limits, clients, what
        self.frames = TokenBucket(limits.max_fps, limits.burst, clock)
        self.commands_per_second = command_rate[0]
        self.commands = TokenBucket(*command_rate, clock)
        self.sessions_started = 0
        self.has_slot = False

    # --- the socket --------------------------------------------------------------------------------
    def open(self) -> Optional[Refusal]:
        """Take one of the client's socket slots (refused past FER_LIVE_MAX_SOCKETS_PER_IP)."""
        cap = self.limits.sockets_per_client
        if not self.clients.open(self.client, cap, self.limits.fps_per_client):
            return Refusal("too_many_connections", f"{cap} {self.what} are already open from your address; "
                                                   "close one (another tab?) and try again")
        self.has_slot = True
        return None

    def close(self, frames_left: int) -> None:
        """Give the slot back, with the admitted frames that will never be analysed. Idempotent."""
        if self.has_slot:
            self.has_slot = False
            self.clients.close(self.client, frames_left)

    # --- frames --------------------------------------------------------------------------------------
    def frame(self, seq: int, size: int, pending: int) -> Optional[Refusal]:
        """A frame of ``size`` bytes arrives while ``pending`` of this connection's frames wait or run.
        Cheapest checks first; once admitted it counts as busy for the client until ``frame_done``."""
        limits = self.limits
        if size > limits.max_frame_bytes:
            return Refusal("too_large", f"frame {seq}: {size:,} bytes is over the limit of "
                                        f"{limits.max_frame_bytes:,} bytes; send a smaller or more compressed frame")
        if not self.frames.take():
            return Refusal("rate_limited", f"frame {seq}: more than {limits.max_fps:g} frames/s; frame dropped")
        if not self.clients.take_frame(self.client):
            return Refusal("rate_limited", f"frame {seq}: more than {limits.fps_per_client:g} frames/s from your "
                                           "address over all its connections; frame dropped")
        if pending >= limits.queue:
            return Refusal("busy", f"frame {seq}: {pending} frames are already waiting; frame dropped (wait for a "
                                   "reply before sending more)")
        if not self.clients.start_frame(self.client, limits.busy_per_client):
            return Refusal("busy", f"frame {seq}: {limits.busy_per_client} frames from your address are already "
                                   "waiting or being analysed; frame dropped")
        return None

    def frame_done(self) -> None:
        """An admitted frame's analysis ended (after the socket closed, ``close`` gave it back already)."""
        if self.has_slot:
            self.clients.end_frame(self.client)

    # --- text commands -------------------------------------------------------------------------------
    def command(self, text: str, queued: int, max_queued: int) -> dict:
        """The live command a text message holds, checked; raises ``Refusal``. ``queued``: the connection's
        jobs (frames and commands) not yet run, of at most ``max_queued``."""
        cmd = read_command(text, COMMANDS, '{"type": "start", "store": false}')
        if cmd["type"] == "start" and not isinstance(cmd.get("store", False), bool):
            raise Refusal("bad_command", '"store" must be true or false')
        self.command_turn(queued, max_queued)
        if cmd["type"] == "start":
            self.sessions_started += 1
            if self.sessions_started > MAX_SESSIONS_PER_CONNECTION:
                raise Refusal("bad_command", f"at most {MAX_SESSIONS_PER_CONNECTION} sessions per connection; "
                                             "reconnect to start another")
        return cmd

    def command_turn(self, queued: int, max_queued: int) -> None:
        """A checked command's turn, within the connection's command rate and its jobs waiting; raises
        ``Refusal`` past either."""
        if not self.commands.take() or queued >= max_queued:
            raise Refusal("rate_limited", f"too many commands; at most {self.commands_per_second:g} a second")

    # --- storing a session ---------------------------------------------------------------------------
    def store(self) -> Optional[Refusal]:
        """None when the client may store one more session this hour (and counts it), else why not.
        Goes to Redis (in this process while Redis is down): call it off the event loop."""
        if STORED.hit(self.client) <= STORED.limit:
            return None
        return Refusal("store_limit", f"{self.limits.stored_per_hour} sessions were stored from your address in the "
                                      "last hour; this one runs but is not stored (storing again in "
                                      f"{wait_words(STORED.wait(self.client))})")
