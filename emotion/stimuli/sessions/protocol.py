"""The protocol of a participant's remote session at /ws/stimuli/take/<key>/ (sessions/consumer.py), and
the checks every message passes before it waits its turn.

The frames reach the live engine exactly as the live page's do, by the live app's modules: the same
limits (emotion/live/limits.py, read from the FER_LIVE_* settings and sent in hello), the same checks
and words on each frame and per address (admission.py), the same queue (jobs.py) and thread pool
(inference.py). Every text message is one JSON object with a "type".

On connect
    {"type": "hello", "model": str, "emotions": [7 names], "needs_code": bool (an open link),
     "stimulus": {"kind", "duration"}, "limits": {...}}   ``limits``: the live socket's
        (LiveLimits.for_clients()), which the page paces and sizes its frames by.

Binary message from the browser
    8 bytes: the stimulus time in seconds (IEEE double, big-endian; the player's currentTime when the
    frame was grabbed), then the frame (JPEG, PNG or WebP). Numbered ``seq`` from 0 per connection.

Text commands from the browser, each answered once
    {"type": "code", "code": str}           an open link's participant code -> {"type": "code", "ok": true}
    {"type": "play"}                        the stimulus starts: the link's use counts, the Recording is
                                            made -> {"type": "playing", "recording": id, "token": str}
    {"type": "pause", "t": s, "reason": "pause"|"hidden"}   the player stopped -> {"type": "paused", "t"}
    {"type": "resume", "t": s}              it goes on: the gap is kept -> {"type": "resumed", "t"}
    {"type": "seek", "from": s, "to": s}    -> {"type": "seeked", "from", "to"}
    {"type": "end", "t": s}                 the stimulus ended -> {"type": "done", "recording", "frames", "gaps"}
    {"type": "withdraw"}                    delete everything of this session ->
                                            {"type": "withdrawn", "use_returned": bool}
    {"type": "rejoin", "token": str, "lost_at": s, "t": s}   a page whose connection was lost, back:
                                            -> {"type": "playing", "recording", "token", "rejoined": true}

Replies to frames
    before "play": {"type": "check", "seq", "face": bool, "ok": bool, "reliable": bool|null,
                    "problems": [{"code", "message"}], "message": str}        (camera_check.py)
    while playing: {"type": "frame", "seq", "t", "face": bool, "stored": bool, "reliable": bool|null,
                    "server_ms"}, or {"type": "frame", "seq", "t", "stored": false, "reason": "paused"}
    A frame is stored only while playing and not paused, with a face, and later in stimulus time than
    the last one stored (after a seek back, the moments already read are not read twice).

Errors: {"type": "error", "seq": n|null, "code", "message"}; the connection stays open. Codes: the live
socket's too_large (the image after the time), rate_limited, busy, bad_image, bad_command,
unknown_command and internal, with its words (emotion/live/admission.py); and bad_frame (no time, or a
time outside the stimulus), bad_code, no_code, bad_state (a command out of turn), used_up, bad_token.
An unknown or expired key is answered not_found and closed (4404); a connection more than an address
may hold (FER_LIVE_MAX_SOCKETS_PER_IP, counted apart from the live page's sockets) is answered
too_many_connections and closed (4429). Commands have a rate of their own (sessions/consumer.py).
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

from emotion.live.admission import Refusal, read_command
from emotion.live.jobs import Frame

TIME = struct.Struct(">d")
MAX_COMMAND_CHARS = 2048
COMMANDS = ("code", "play", "pause", "resume", "seek", "end", "withdraw", "rejoin")
TIMES = {"pause": ("t",), "resume": ("t",), "seek": ("from", "to"), "end": ("t",), "rejoin": ("lost_at", "t")}


@dataclass
class TimedFrame(Frame):
    t: float                 # the stimulus time the player showed when the frame was grabbed


def split_frame(seq: int, data: bytes, arrival: float) -> TimedFrame:
    """One binary message, arrived at ``arrival`` (perf_counter seconds), as its stimulus time and image."""
    if len(data) <= TIME.size or not math.isfinite(TIME.unpack_from(data)[0]):
        raise Refusal("bad_frame", f"frame {seq}: a frame is 8 bytes of stimulus time (a big-endian double) "
                                   "followed by the image")
    return TimedFrame(seq, data[TIME.size:], arrival, TIME.unpack_from(data)[0])


def parse_command(text: str) -> dict:
    """One text message as a command whose fields have the right types, or a Refusal saying why not."""
    cmd = read_command(text, COMMANDS, '{"type": "play"}', MAX_COMMAND_CHARS)
    for name in TIMES.get(cmd["type"], ()):
        value = cmd.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise Refusal("bad_command", f'{cmd["type"]}: "{name}" must be a time in seconds, 0 or more')
    if cmd["type"] == "pause" and cmd.get("reason", "pause") not in ("pause", "hidden"):
        raise Refusal("bad_command", 'pause: "reason" is "pause" or "hidden"')
    for name in ("code", "token"):
        if name in cmd and not isinstance(cmd[name], str):
            raise Refusal("bad_command", f'"{name}" must be a string')
    return cmd
