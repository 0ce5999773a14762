"""Request bodies are refused from their headers, before any of the body is read.

Every request has a cap on its declared Content-Length: the upload endpoints (a POST to a path of
`upload_paths.txt`: the analyses', a study's and stimuli's upload forms, hand labels, the API's)
`FER_MAX_REQUEST_MB`, everything else (login, admin, API JSON) `FER_MAX_FORM_KB`.
A body without a length (chunked) is refused with a 411 on every path: browsers and HTTP clients send
a length with forms, files and JSON, and the proxy in front (deploy/nginx.conf) buffers a chunked
body and passes it on with its length, capped as it reads it.

Two places apply it:

- `RequestSizeLimit`, ASGI middleware around the Django application (any ASGI server; also what a
  unit test can call);
- `guard_daphne()`, for daphne itself. Daphne (Twisted) reads a whole body, into memory or a
  temporary file, before it calls the application at all, so an ASGI middleware alone answers only
  after a 1 GB body has been received. The guard answers as soon as the headers are in and closes
  the connection. It also gives Twisted's idle connection timeout (12 hours by default) the value of
  `FER_HTTP_IDLE_SECONDS`, so a client that sends half a request and stops is cut off; one that
  trickles a byte now and then is the proxy's to time out (`client_header_timeout`,
  `client_body_timeout`).
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Optional
from urllib.parse import unquote

from django.conf import settings

log = logging.getLogger(__name__)
UPLOAD_PATHS_FILE = Path(__file__).resolve().parent / "upload_paths.txt"


def read_upload_paths(path: Path = UPLOAD_PATHS_FILE) -> list:
    """The upload paths' regular expressions (the file's lines that are not comments)."""
    return [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]


UPLOAD_PATHS = re.compile("^(?:" + "|".join(read_upload_paths()) + ")$")
REASONS = {400: "Bad Request", 411: "Length Required", 413: "Request Entity Too Large"}


def is_upload(method: str, path: str) -> bool:
    return method == "POST" and UPLOAD_PATHS.match(path) is not None


def body_limit(method: str, path: str) -> int:
    """The most bytes a request to this path may declare."""
    if is_upload(method, path):
        return int(settings.FER_MAX_REQUEST_MB * 1_000_000)
    return int(settings.FER_MAX_FORM_KB * 1000)


def refusal(method: str, path: str, declared: Optional[int], chunked: bool) -> Optional[tuple]:
    """(status, message) when a request must be refused from its headers, else None. `declared` is the
    Content-Length (None when the request has none), `chunked` whether a body follows without one."""
    upload = is_upload(method, path)
    if declared is None:
        if chunked or upload:
            what = "the upload" if upload else "the request body"
            return 411, f"Send {what} with a Content-Length header."
        return None
    limit = body_limit(method, path)
    if declared <= limit:
        return None
    if upload:
        return 413, (f"The upload is {declared / 1e6:,.1f} MB; one request may carry at most {limit / 1e6:,.1f} MB "
                     f"(each file at most {settings.FER_MAX_UPLOAD_MB:,.1f} MB).")
    return 413, f"The request body is {declared / 1e3:,.0f} KB; this address accepts at most {limit / 1e3:,.0f} KB."


def error_body(method: str, path: str, message: str) -> bytes:
    # The upload page and the API read "detail"; the API's clients also find the reason under "file".
    payload = {"detail": message, "file": [message]} if is_upload(method, path) else {"detail": message}
    return json.dumps(payload).encode()


class RequestSizeLimit:
    """ASGI middleware: refuses an HTTP request from its headers (see the module's docstring)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            length = headers.get(b"content-length")
            chunked = b"chunked" in headers.get(b"transfer-encoding", b"").lower()
            try:
                declared = None if length is None else int(length)
                if declared is not None and declared < 0:
                    raise ValueError
            except ValueError:
                return await _refuse(send, scope, 400, "The Content-Length header is not a number.")
            refused = refusal(scope["method"], scope["path"], declared, chunked)
            if refused:
                return await _refuse(send, scope, *refused)
        return await self.app(scope, receive, send)


async def _refuse(send, scope, status: int, message: str) -> None:
    body = error_body(scope["method"], scope["path"], message)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


# --- daphne -----------------------------------------------------------------------------------------

class _Discard:
    """Where the bytes of a refused body go (those that arrived with the headers)."""

    closed = False

    def write(self, data):
        pass

    def read(self, *args):
        return b""

    def seek(self, *args):
        return 0

    def tell(self):
        return 0

    def close(self):
        self.closed = True


def guard_daphne() -> bool:
    """Make daphne refuse oversized and length-less bodies from their headers, and time out idle
    connections. Applies only in a process where daphne's server is loaded (the daphne command imports
    it before the application); returns whether it did."""
    import sys

    http_protocol = sys.modules.get("daphne.http_protocol")
    if http_protocol is None:
        return False
    base = http_protocol.WebRequest
    if getattr(base, "fer_guarded", False):
        return True

    class GuardedWebRequest(base):
        fer_guarded = True
        fer_refused = False

        def gotLength(self, length):  # noqa: N802 (Twisted's name)
            channel = self.channel
            command, raw_path = getattr(channel, "_command", None), getattr(channel, "_path", None)
            if command is None or raw_path is None:    # not the Twisted this was written for: the ASGI check stays
                return super().gotLength(length)
            method = command.decode("ascii", "replace")
            path = unquote(raw_path.split(b"?", 1)[0].decode("ascii", "replace"))
            refused = refusal(method, path, length, chunked=length is None)
            if not refused:
                return super().gotLength(length)
            status, message = refused
            self.fer_refused = True
            self.requestHeaders.removeHeader(b"Expect")     # Twisted would send "100 Continue" next
            self.content = _Discard()
            body = error_body(method, path, message)
            head = (f"HTTP/1.1 {status} {REASONS[status]}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n")
            log.warning("refused from its headers: %s %s, %s", method, path, message)
            channel.persistent = False
            channel.transport.write(head.encode() + body)
            channel.transport.loseConnection()       # stops reading: the body is never received

        def process(self):
            if self.fer_refused:
                return None
            return super().process()

    http_protocol.WebRequest = GuardedWebRequest

    idle = float(getattr(settings, "FER_HTTP_IDLE_SECONDS", 60))
    factory = http_protocol.HTTPFactory
    build = factory.buildProtocol

    def buildProtocol(self, addr):  # noqa: N802 (Twisted's name)
        protocol = build(self, addr)
        if protocol is not None and idle > 0:
            protocol.timeOut = idle      # armed when the connection opens, re-armed by each read
        return protocol

    factory.buildProtocol = buildProtocol
    return True
