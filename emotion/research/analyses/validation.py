"""Deciding what an upload is from its bytes, and refusing what cannot be analysed, before it is stored.

The file name and the browser's content type are never trusted: a text file renamed .mp4 is refused
because no decoder understands it, and the stored name gets the extension of what the content is.

Nothing here decodes media in the web process: the file is probed by ``python -m
emotion.research.analyses.probe`` in a process of its own, capped in memory and time, which reads image and
video sizes from their headers and refuses what is over a limit before any pixel is decoded. A hostile
file can at worst kill that process; the upload is then refused with a reason.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator, Optional

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from emotion.ml.media import image_format

from .shares import probe_turn

log = logging.getLogger(__name__)


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
    offset: float = 0.0             # seconds a player shows before the first picture (emotion/ml/video_out.py)
    extension: str = field(init=False)

    def __post_init__(self):
        self.extension = self.extension_of(self.media_format)

    @staticmethod
    def extension_of(media_format: str) -> str:
        return "." + {"jpeg": "jpg"}.get(media_format, media_format)


STILL_IMAGE_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis"}


def sniff_format(head: bytes) -> Optional[str]:
    """The container format from the first bytes, or None when it is none of the accepted ones."""
    image = image_format(head)
    if image:
        return image
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


def _sizes(size: float, limit: float) -> tuple:
    """The two sizes as the user reads them: in MB, or in bytes where MB would show no difference
    (500,000,001 bytes is over a 500 MB limit, but both read "500.0 MB")."""
    if _mb(size) != _mb(limit):
        return _mb(size), _mb(limit)
    return f"{int(size):,} bytes", f"{int(limit):,} bytes ({_mb(limit)})"


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
        shown, allowed = _sizes(length, limit)
        raise UploadRefused(f"The upload is {shown}; the limit is {allowed} per file.")


def inspect_upload(upload: UploadedFile) -> MediaFacts:
    """MediaFacts for an upload that can be analysed, or UploadRefused with a readable reason."""
    size = upload.size or 0
    if size == 0:
        raise UploadRefused("The file is empty (0 bytes).")
    limit = settings.FER_MAX_UPLOAD_MB * 1_000_000
    if size > limit:
        shown, allowed = _sizes(size, limit)
        raise UploadRefused(f"The file is {shown}; the limit is {allowed}.")
    upload.seek(0)
    head = upload.read(64)
    upload.seek(0)
    fmt = sniff_format(head)
    if fmt is None:
        raise UploadRefused("This is not an image (JPEG, PNG, WebP) or a video (MP4, MOV, AVI, WebM, MKV): "
                            "its content is none of these formats, whatever its name says.")
    kind = "image" if fmt in IMAGE_FORMATS else "video"
    with local_path(upload) as path:
        answer = run_probe(path, kind)
    upload.seek(0)
    if not answer.get("ok"):
        raise UploadRefused(_refusal(answer, fmt, kind))
    if kind == "image":
        return MediaFacts("image", fmt, width=answer["width"], height=answer["height"])
    facts = MediaFacts("video", fmt, width=answer["width"], height=answer["height"], fps=round(answer["fps"], 3),
                       frame_count=answer["frame_count"], duration=round(answer["duration"], 3),
                       offset=round(answer.get("offset", 0.0), 4))
    if facts.duration > settings.FER_MAX_VIDEO_SECONDS:
        raise UploadRefused(_too_long(facts.duration))
    return facts


def run_probe(path: str, kind: str) -> dict:
    """The answer of emotion.research.analyses.probe for one file, run in its own process with the site's limits,
    once one of this process' probe turns is free (shares.Busy, a 503, when none frees in time). A probe
    that dies (out of its memory, a decoder crash) or runs out of time answers
    ``{"ok": false, "code": "probe_failed" | "timeout"}``; this process is never at risk."""
    cmd = [sys.executable, "-m", "emotion.research.analyses.probe", str(path), "--kind", kind,
           "--max-image-pixels", str(settings.FER_MAX_IMAGE_PIXELS),
           "--max-video-pixels", str(settings.FER_MAX_VIDEO_PIXELS),
           "--max-seconds", str(settings.FER_MAX_VIDEO_SECONDS),
           "--memory-mb", str(settings.FER_PROBE_MEMORY_MB),
           "--cpu-seconds", str(int(settings.FER_PROBE_SECONDS) + 1)]
    env = {**os.environ,
           # OpenCV reads its limit when it loads; glibc's per-thread arenas would count against the
           # address-space cap without holding anything.
           "FER_MAX_IMAGE_PIXELS": str(settings.FER_MAX_IMAGE_PIXELS),
           "FER_MAX_VIDEO_PIXELS": str(settings.FER_MAX_VIDEO_PIXELS),
           "OPENCV_IO_MAX_IMAGE_PIXELS": str(settings.FER_MAX_IMAGE_PIXELS),
           "MALLOC_ARENA_MAX": "2", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    try:
        with probe_turn():          # at most FER_PROBES_PER_PROCESS of these at once; Busy when none frees
            done = subprocess.run(cmd, cwd=str(settings.BASE_DIR), env=env, stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, timeout=settings.FER_PROBE_SECONDS)
    except subprocess.TimeoutExpired:
        return {"ok": False, "code": "timeout"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode == 0 and lines:
        try:
            return json.loads(lines[-1])
        except ValueError:
            pass
    log.warning("the media probe failed (exit status %s) on %s: %s", done.returncode, path, done.stderr[-2000:])
    return {"ok": False, "code": "probe_failed", "status": done.returncode}


def _too_long(duration: float) -> str:
    return (f"The video lasts {duration / 60:.1f} min; the limit is {settings.FER_MAX_VIDEO_SECONDS / 60:.1f} min. "
            "Cut it, or ask for a higher limit.")


def _refusal(answer: dict, fmt: str, kind: str) -> str:
    what = f"{fmt.upper()} {kind}"
    code = answer.get("code")
    if code == "over_limit":
        return f"The {what} is refused before decoding: {answer['message']}."
    if code == "too_long":
        return _too_long(answer["duration"])
    if code == "timeout":
        return (f"The {what} could not be checked within {settings.FER_PROBE_SECONDS:g} s, so it was refused. "
                "It may be damaged.")
    if code in ("memory", "probe_failed"):
        return (f"The {what} could not be checked: reading it needed more than the {settings.FER_PROBE_MEMORY_MB:,.0f} MB "
                "allowed, or made the decoder fail, so it was refused. It may be damaged.")
    return _readable(answer.get("message", "unknown error"), fmt)


def without_path(message: str) -> str:
    """The engine's media errors start with the file's path: a temporary or generated name that means
    nothing to the user, who knows the file by its own name."""
    return message.split(": ", 1)[-1]


def _readable(reason: str, fmt: str) -> str:
    """``reason`` as the probe gives it: without the path."""
    if fmt in IMAGE_FORMATS:
        return f"The {fmt.upper()} image cannot be read: {reason}."
    return f"The {fmt.upper()} video cannot be read: {reason}."
