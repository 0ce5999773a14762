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
from django.http import StreamingHttpResponse
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


def file_chunks(storage, name: str) -> Iterator[bytes]:
    with storage.open(name, "rb") as fh:
        while chunk := fh.read(FILE_BLOCK):
            yield chunk


def stream_file(request, fieldfile, content_type: str, filename: str, attachment: bool = True):
    storage, name = fieldfile.storage, fieldfile.name
    return stream(request, file_chunks(storage, name), content_type, filename, attachment, storage.size(name))
