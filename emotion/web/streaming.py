"""Streamed downloads that stay streamed under daphne.

Under ASGI, Django reads a response's synchronous iterator into one list before sending it, so a large
export or video would sit whole in memory. Here each chunk is pulled through sync_to_async instead,
always on the same thread (database cursors and open files stay valid); under WSGI and the test
client the plain iterator is used.
"""

from __future__ import annotations

from typing import Iterable, Iterator, Optional

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header

_END = object()
FILE_BLOCK = 1 << 20


def _pulled_asynchronously(chunks: Iterable):
    it = iter(chunks)
    step = sync_to_async(lambda: next(it, _END), thread_sensitive=True)

    async def gen():
        try:
            while (chunk := await step()) is not _END:
                yield chunk
        finally:                 # a client that leaves early must not keep the file or cursor open
            close = getattr(it, "close", None)
            if close is not None:
                await sync_to_async(close, thread_sensitive=True)()

    return gen()


def stream(request, chunks: Iterable, content_type: str, filename: str, attachment: bool = True,
           length: Optional[int] = None) -> StreamingHttpResponse:
    body = _pulled_asynchronously(chunks) if isinstance(request, ASGIRequest) else chunks
    res = StreamingHttpResponse(body, content_type=content_type)
    res["Content-Disposition"] = content_disposition_header(attachment, filename)
    res["X-Content-Type-Options"] = "nosniff"
    if length is not None:
        res["Content-Length"] = str(length)
    return res


def file_chunks(storage, name: str, start: int = 0, length: Optional[int] = None) -> Iterator[bytes]:
    with storage.open(name, "rb") as fh:
        if start:
            fh.seek(start)
        left = length
        while (left is None or left > 0) and (chunk := fh.read(FILE_BLOCK if left is None else min(FILE_BLOCK, left))):
            if left is not None:
                left -= len(chunk)
            yield chunk


def byte_range(header: Optional[str], size: int):
    """(first, last) byte of a single ``Range: bytes=...`` request, None to send the whole file (no
    header, a form not understood, several ranges), or "unsatisfiable" (it starts past the end)."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, sep, last = header[6:].strip().partition("-")
    if not sep:
        return None
    try:
        if first == "":                       # the last N bytes
            n = int(last)
            return (max(0, size - n), size - 1) if n > 0 and size else "unsatisfiable"
        start = int(first)
        end = int(last) if last else size - 1
    except ValueError:
        return None
    if start >= size:
        return "unsatisfiable"
    return (start, min(end, size - 1)) if end >= start else None


def stream_file(request, fieldfile, content_type: str, filename: str, attachment: bool = True):
    """The file, or the one byte range asked for (206): a <video> seeks by asking for the part it needs."""
    storage, name = fieldfile.storage, fieldfile.name
    size = storage.size(name)
    # If-Range would need a validator this response does not give: the whole file then
    wanted = None if "If-Range" in request.headers else byte_range(request.headers.get("Range"), size)
    if wanted == "unsatisfiable":
        res = HttpResponse(status=416)
        res["Content-Range"] = f"bytes */{size}"
    elif wanted is None:
        res = stream(request, file_chunks(storage, name), content_type, filename, attachment, size)
    else:
        first, last = wanted
        res = stream(request, file_chunks(storage, name, first, last - first + 1), content_type, filename, attachment,
                     last - first + 1)
        res.status_code = 206
        res["Content-Range"] = f"bytes {first}-{last}/{size}"
    res["Accept-Ranges"] = "bytes"
    return res
