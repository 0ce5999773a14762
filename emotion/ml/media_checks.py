"""What a media file is and how large, before any pixel is decoded, and the errors every reader raises.

Kept apart from media.py (the readers) so that the video decoder (video_read.py) and the readers both
build on it without importing each other.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Optional

from PIL import Image, JpegImagePlugin, PngImagePlugin, WebPImagePlugin


class MediaError(ValueError):
    """The file cannot be analysed; the message says why."""


class UnreadableMediaError(MediaError):
    pass


class NotDecodableError(UnreadableMediaError):
    """The bytes are there but the decoder does not understand them."""


class OverLimitError(UnreadableMediaError):
    """The header says the image or frame is larger than the limit: refused before it is decoded."""

    def __init__(self, message: str, width: Optional[int] = None, height: Optional[int] = None,
                 limit: Optional[int] = None):
        super().__init__(message)
        self.width, self.height, self.limit = width, height, limit


class TruncatedVideoError(MediaError):
    def __init__(self, message: str, frames_read: int):
        super().__init__(message)
        self.frames_read = frames_read


@dataclass(frozen=True)
class ImageHeader:
    format: str                     # jpeg, png or webp
    width: int
    height: int


def image_format(head: bytes) -> Optional[str]:
    """jpeg, png or webp from a file's first bytes (the same signatures OpenCV and Pillow go by)."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


_PILLOW_READERS = {"jpeg": JpegImagePlugin.JpegImageFile, "png": PngImagePlugin.PngImageFile,
                   "webp": WebPImagePlugin.WebPImageFile}


def image_header(data: bytes, name: str = "image") -> ImageHeader:
    """The format and size of a JPEG, PNG or WebP from its header, without decoding a pixel. Pillow's
    readers parse JPEG markers in any order (skipping junk bytes between segments as libjpeg does),
    PNG chunks up to the first IDAT, and WebP's VP8/VP8L/VP8X header. Raises NotDecodableError for any
    other content or a header that cannot be read."""
    fmt = image_format(data[:16])
    if fmt is None:
        raise NotDecodableError(f"{name}: not a JPEG, PNG or WebP image")
    if fmt == "webp":
        # Pillow opens a WebP through libwebp's animation decoder, which allocates the whole canvas:
        # Pillow's own header reader gives the size first, without it.
        size = getattr(WebPImagePlugin, "_get_size", lambda head: None)(data[:30])
        if size:
            return _checked_header(fmt, *size, name)
    try:
        # The format's reader class directly, not Image.open: it reads the header only, and skips
        # Pillow's decompression-bomb warning (the caller applies its own limit).
        with _PILLOW_READERS[fmt](io.BytesIO(data)) as im:
            width, height = im.size
    except Image.DecompressionBombError:
        raise OverLimitError(f"{name}: the image's dimensions are over the limit") from None
    except Exception:       # noqa: BLE001 - a broken header raises all sorts (SyntaxError, OSError...)
        raise NotDecodableError(f"{name}: the {fmt.upper()} header cannot be read (a damaged or "
                                "truncated file)") from None
    return _checked_header(fmt, width, height, name)


def _checked_header(fmt: str, width: int, height: int, name: str) -> ImageHeader:
    if width <= 0 or height <= 0:
        raise NotDecodableError(f"{name}: the {fmt.upper()} header gives no size")
    return ImageHeader(fmt, int(width), int(height))


def check_pixels(width: int, height: int, limit: int, name: str, what: str = "image") -> None:
    """Raise OverLimitError when width x height is over ``limit`` pixels."""
    if width * height > limit:
        raise OverLimitError(f"{name}: the {what} is {width}x{height} pixels ({width * height:,}), over the "
                             f"limit of {limit:,} pixels", width, height, limit)
