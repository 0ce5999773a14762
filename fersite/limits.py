"""ASGI guard for uploads: refuse a body that is too large before any of it is read.

Django's ASGI handler spools a request's whole body to a temporary file before a view runs, so a
check in the view comes after the disk has been filled. This looks at the declared Content-Length of
the upload endpoints first (browsers and HTTP clients always send one for form uploads).
"""

from __future__ import annotations

import json

from django.conf import settings

UPLOAD_PATHS = ("/api/analyses", "/analyses")


class UploadSizeLimit:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"].rstrip("/") in UPLOAD_PATHS:
            length = dict(scope["headers"]).get(b"content-length")
            limit = settings.FER_MAX_REQUEST_MB * 1_000_000
            if length is None:
                return await _refuse(send, 411, "Send the upload with a Content-Length header.")
            try:
                declared = int(length)
            except ValueError:
                return await _refuse(send, 400, "The Content-Length header is not a number.")
            if declared > limit:
                return await _refuse(send, 413, f"The upload is {declared / 1e6:,.1f} MB; one request may carry "
                                                f"at most {limit / 1e6:,.1f} MB (each file at most "
                                                f"{settings.FER_MAX_UPLOAD_MB:,.1f} MB).")
        return await self.app(scope, receive, send)


async def _refuse(send, status: int, message: str) -> None:
    body = json.dumps({"detail": message, "file": [message]}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
