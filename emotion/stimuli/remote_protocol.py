"""The protocol of a participant's remote session at /ws/stimuli/take/<key>/ (remote_consumer.py), and
the checks every message passes before it waits its turn.

The frames reach the live engine exactly as the live page's do (emotion/live/inference.py: the same
thread pool, size and pixel checks; emotion/live/guards.py: the same per-connection and per-address
limits, read from the FER_LIVE_* settings). Every text message is one JSON object with a "type".

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
socket's too_large, rate_limited, busy, bad_image, bad_command, unknown_command, internal; and
bad_frame (no time, or a time outside the stimulus), bad_code, no_code, bad_state (a command out of
turn), used_up, bad_token. An unknown or expired key is answered not_found and closed (4404).
"""

from __future__ import annotations

import json
import math
import struct
from typing import Tuple

TIME = struct.Struct(">d")
MAX_COMMAND_CHARS = 2048
COMMANDS = ("code", "play", "pause", "resume", "seek", "end", "withdraw", "rejoin")
TIMES = {"pause": ("t",), "resume": ("t",), "seek": ("from", "to"), "end": ("t",), "rejoin": ("lost_at", "t")}


class CommandError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def split_frame(seq: int, data: bytes) -> Tuple[float, bytes]:
    """(stimulus time, image) of one binary message."""
    if len(data) <= TIME.size or not math.isfinite(TIME.unpack_from(data)[0]):
        raise CommandError("bad_frame", f"frame {seq}: a frame is 8 bytes of stimulus time (a big-endian double) "
                                        "followed by the image")
    return TIME.unpack_from(data)[0], data[TIME.size:]


def parse_command(text: str) -> dict:
    """One text message as a command whose fields have the right types, or CommandError saying why not."""
    if len(text) > MAX_COMMAND_CHARS:
        raise CommandError("bad_command", f"commands are at most {MAX_COMMAND_CHARS} characters")
    try:
        cmd = json.loads(text)
    except ValueError:
        raise CommandError("bad_command", 'a text message must be a JSON object such as {"type": "play"}') from None
    if not isinstance(cmd, dict) or not isinstance(cmd.get("type"), str):
        raise CommandError("bad_command", 'a command is a JSON object with a "type" string')
    if cmd["type"] not in COMMANDS:
        raise CommandError("unknown_command", f"unknown command {cmd['type'][:40]!r}; expected one of "
                                              f"{', '.join(COMMANDS)}")
    for name in TIMES.get(cmd["type"], ()):
        value = cmd.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise CommandError("bad_command", f'{cmd["type"]}: "{name}" must be a time in seconds, 0 or more')
    if cmd["type"] == "pause" and cmd.get("reason", "pause") not in ("pause", "hidden"):
        raise CommandError("bad_command", 'pause: "reason" is "pause" or "hidden"')
    for name in ("code", "token"):
        if name in cmd and not isinstance(cmd[name], str):
            raise CommandError("bad_command", f'"{name}" must be a string')
    return cmd
