"""Deciding what an upload is from its bytes, and refusing what cannot be analysed, before it is stored.

The file name and the browser's content type are never trusted: a text file renamed .mp4 is refused
because no decoder understands it, and the stored name gets the extension of what the content is.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator, Optional

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from emotion.ml.media import MediaError, decode_image, probe_video


class UploadRefused(ValueError):
    """The upload cannot be analysed; the message says why, for the page and the API."""


@dataclass
class MediaFacts:
    kind: str                       # "image" or "video"
    media_format: str               # jpeg, png, webp, mp4, mov, avi, webm, mkv
    width: int
    height: int
    fps: Optional[float] = None
    frame_count: Optional[int] = None
    duration: Optional[float] = None
    extension: str = field(init=False)

    def __post_init__(self):
        self.extension = self.extension_of(self.media_format)

    @staticmethod
    def extension_of(media_format: str) -> str:
        return "." + {"jpeg": "jpg"}.get(media_format, media_format)


STILL_IMAGE_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis"}


def sniff_format(head: bytes) -> Optional[str]:
    """The container format from the first bytes, or None when it is none of the accepted ones."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in STILL_IMAGE_BRANDS:          # HEIC and AVIF photos share the MP4 container
            return None
        return "mov" if brand == b"qt  " else "mp4"
    if head[4:8] in (b"moov", b"mdat", b"wide", b"free"):   # old QuickTime files have no ftyp box
        return "mov"
    if head.startswith(b"\x1a\x45\xdf\xa3"):                 # EBML: Matroska, or WebM by its doctype
        return "webm" if b"webm" in head[:64] else "mkv"
    return None


IMAGE_FORMATS = {"jpeg", "png", "webp"}
MIME = {"jpeg": "image/jpeg", "jpg": "image/jpeg", "png": "image/png", "webp": "image/webp", "mp4": "video/mp4",
        "mov": "video/quicktime", "avi": "video/x-msvideo", "webm": "video/webm", "mkv": "video/x-matroska"}


def _mb(n: float) -> str:
    return f"{n / 1_000_000:,.1f} MB"


@contextmanager
def local_path(upload: UploadedFile) -> Iterator[str]:
    """A path to the upload's bytes. Large uploads already sit in a temporary file; small ones are
    written to one that is removed on the way out, whatever happens."""
    if hasattr(upload, "temporary_file_path"):
        yield upload.temporary_file_path()
        return
    fd, path = tempfile.mkstemp(suffix=".upload", dir=settings.FILE_UPLOAD_TEMP_DIR)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        yield path
    finally:
        os.unlink(path)


def refuse_oversized_request(content_length) -> None:
    """Before the body is read: a request that cannot hold a file under the limit is refused without
    spooling gigabytes to disk first (1 MB of slack covers the multipart framing and form fields)."""
    try:
        length = int(content_length or 0)
    except ValueError:
        return
    limit = settings.FER_MAX_UPLOAD_MB * 1_000_000
    if length > limit + 1_000_000:
        raise UploadRefused(f"The upload is {_mb(length)}; the limit is {_mb(limit)} per file.")


def inspect_upload(upload: UploadedFile) -> MediaFacts:
    """MediaFacts for an upload that can be analysed, or UploadRefused with a readable reason."""
    size = upload.size or 0
    if size == 0:
        raise UploadRefused("The file is empty (0 bytes).")
    limit = settings.FER_MAX_UPLOAD_MB * 1_000_000
    if size > limit:
        raise UploadRefused(f"The file is {_mb(size)}; the limit is {_mb(limit)}.")
    upload.seek(0)
    head = upload.read(64)
    upload.seek(0)
    fmt = sniff_format(head)
    if fmt is None:
        raise UploadRefused("This is not an image (JPEG, PNG, WebP) or a video (MP4, MOV, AVI, WebM, MKV): "
                            "its content is none of these formats, whatever its name says.")
    try:
        if fmt in IMAGE_FORMATS:
            image = decode_image(upload.read(), "The image")
            upload.seek(0)
            return MediaFacts("image", fmt, width=image.shape[1], height=image.shape[0])
        with local_path(upload) as path:
            info = probe_video(path)
    except MediaError as exc:
        raise UploadRefused(_readable(str(exc), fmt)) from None
    facts = MediaFacts("video", fmt, width=info.width, height=info.height, fps=round(info.fps, 3),
                       frame_count=info.frame_count, duration=round(info.duration, 3))
    if facts.duration > settings.FER_MAX_VIDEO_SECONDS:
        raise UploadRefused(f"The video lasts {facts.duration / 60:.1f} min; the limit is "
                            f"{settings.FER_MAX_VIDEO_SECONDS / 60:.1f} min. Cut it, or ask for a higher limit.")
    return facts


def without_path(message: str) -> str:
    """The engine's media errors start with the file's path: a temporary or generated name that means
    nothing to the user, who knows the file by its own name."""
    return message.split(": ", 1)[-1]


def _readable(message: str, fmt: str) -> str:
    reason = without_path(message)
    if fmt in IMAGE_FORMATS:
        return f"The {fmt.upper()} image cannot be read: {reason}."
    return f"The {fmt.upper()} video cannot be read: {reason}."
